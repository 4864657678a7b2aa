module github.com/pyralog/pyralog/tests/interop/go

go 1.22

require github.com/pyralog/pyralog/go v0.0.0

replace github.com/pyralog/pyralog/go => ../../../go
