package pyralog

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Code is a stable error code; Code.String names it ("LogNotFound").
type Code int32

func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Error is every error the library returns: a stable Code and a message
// that says what to do. Compare with the sentinels (ErrLogNotFound, ...)
// through errors.Is, or read Code, RetryAfter and CorruptBatch through
// errors.As.
type Error struct {
	Code    Code
	Message string
	// RetryAfter is how long the server asked to wait before a retry (set on
	// ErrThrottled errors); 0 when it gave no advice.
	RetryAfter time.Duration
	// CorruptBatch is where the stored batch of an ErrCorruptData error
	// raised for fetched data lies; nil on every other error.
	CorruptBatch *BatchLocation
}

// BatchLocation is a stored batch that cannot be decoded: records
// FirstOffset to LastOffset of Log/Partition. Every record before them was
// delivered; seek the partition to LastOffset+1 to skip them (after
// deciding they are lost: a replica may still hold them intact).
type BatchLocation struct {
	Log         string
	Partition   int32
	FirstOffset uint64
	LastOffset  uint64
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("pyralog: %s (%d)", e.Code, int32(e.Code))
	}
	return fmt.Sprintf("pyralog: %s (%d): %s", e.Code, int32(e.Code), e.Message)
}

// Is matches another *Error with the same code, so that
// errors.Is(err, ErrLogNotFound) holds for any message.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// IsCode reports whether err is or wraps an *Error with this code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
