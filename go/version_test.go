package pyralog

import (
	"strings"
	"testing"
)

func TestGivenTheLinkedLibraryWhenCheckingItsVersionShouldBeThisPackages(t *testing.T) {
	if err := checkNativeVersion(nativeVersion()); err != nil {
		t.Fatal(err)
	}
}

func TestGivenALibraryOfAnotherVersionWhenCheckingShouldNameBoth(t *testing.T) {
	err := checkNativeVersion("0.0.1")
	if err == nil || !strings.Contains(err.Error(), "is version 0.0.1, but this Go package is "+Version) {
		t.Fatalf("got %v", err)
	}
}
