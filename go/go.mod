module github.com/pyralog/pyralog/go

go 1.22
