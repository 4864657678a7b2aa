package pyralog

// Version is this package's version: the repository's one version
// (Cargo.toml's [workspace.package] version; scripts/version.py --check
// holds every package to it). The native library linked in must report the
// same, or the package panics as it initializes, naming both.
const Version = "0.1.0"
