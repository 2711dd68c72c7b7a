package wineventlog

import (
	"errors"
	"fmt"
	"time"
)

// Handle is an EVT_HANDLE of the Windows Event Log API: an event, a
// bookmark or a subscription. Zero is no handle.
type Handle uintptr

// Start is where a subscription begins.
type Start uint8

// Starts, as EvtSubscribe's flags name them.
const (
	// StartAtOldest reads every record still in the channel, then new ones
	// (EvtSubscribeStartAtOldestRecord).
	StartAtOldest Start = iota + 1
	// StartFuture reads only records written after the subscription
	// (EvtSubscribeToFutureEvents).
	StartFuture
	// StartAfterBookmark reads the records after a bookmark, strictly: the
	// subscription fails when the bookmarked record is no longer in the
	// channel (EvtSubscribeStartAfterBookmark | EvtSubscribeStrict), so a
	// cleared or rolled-over log is noticed instead of silently read from
	// wherever the service guesses.
	StartAfterBookmark
)

func (s Start) String() string {
	switch s {
	case StartAtOldest:
		return "oldest record"
	case StartFuture:
		return "new records only"
	case StartAfterBookmark:
		return "after bookmark"
	}
	return fmt.Sprintf("Start(%d)", uint8(s))
}

// API is the part of wevtapi.dll the source uses. The Windows
// implementation (api_windows.go) is a thin translation of each method to
// one or two calls; every decision is taken by the source, which tests drive
// through a scripted fake. Errors that carry a Windows error code are (or
// wrap) an Errno.
type API interface {
	// Subscribe opens a pull subscription to channel, limited by the XPath
	// query, starting at start; bookmark is the handle to start after for
	// StartAfterBookmark, zero otherwise.
	Subscribe(channel, query string, start Start, bookmark Handle) (Subscription, error)
	// RenderXML renders an event (EvtRenderEventXml) or a bookmark
	// (EvtRenderBookmark) as UTF-16LE text into buf. It returns the bytes
	// used, terminator included; when buf is too small it returns the size
	// needed together with ErrInsufficientBuffer.
	RenderXML(h Handle, bookmark bool, buf []byte) (int, error)
	// CreateBookmark makes a bookmark from its rendered XML, or an empty
	// one when xml is "".
	CreateBookmark(xml string) (Handle, error)
	// UpdateBookmark moves the bookmark to the event.
	UpdateBookmark(bookmark, event Handle) error
	// QueryRecord returns the event with this record id if the channel
	// still holds one (EvtQuery filtered on EventRecordID), zero otherwise.
	// The caller closes it.
	QueryRecord(channel string, recordID uint64) (Handle, error)
	// Close releases a handle.
	Close(h Handle) error
}

// Subscription is an open pull subscription.
type Subscription interface {
	// Next fills events with up to len(events) event handles (EvtNext,
	// without waiting) and returns how many; ErrNoMoreItems when none is
	// ready. The caller closes each handle.
	Next(events []Handle) (int, error)
	// Wait blocks until the subscription signals that records may be ready,
	// or timeout passes; it reports whether it was signalled.
	Wait(timeout time.Duration) (bool, error)
	// Close ends the subscription.
	Close() error
}

// Errno is a Windows error code as the API returns it.
type Errno uint32

// Windows error codes the source acts on (winerror.h).
const (
	ErrAccessDenied             Errno = 5     // ERROR_ACCESS_DENIED
	ErrInvalidParameter         Errno = 87    // ERROR_INVALID_PARAMETER
	ErrInsufficientBuffer       Errno = 122   // ERROR_INSUFFICIENT_BUFFER
	ErrNoMoreItems              Errno = 259   // ERROR_NO_MORE_ITEMS
	ErrNotFound                 Errno = 1168  // ERROR_NOT_FOUND
	ErrRPCServerUnavailable     Errno = 1722  // RPC_S_SERVER_UNAVAILABLE
	ErrRPCInvalidBound          Errno = 1734  // RPC_S_INVALID_BOUND
	ErrInvalidOperation         Errno = 4317  // ERROR_INVALID_OPERATION
	ErrEvtInvalidChannelPath    Errno = 15000 // ERROR_EVT_INVALID_CHANNEL_PATH
	ErrEvtInvalidQuery          Errno = 15001 // ERROR_EVT_INVALID_QUERY
	ErrEvtChannelNotFound       Errno = 15007 // ERROR_EVT_CHANNEL_NOT_FOUND
	ErrEvtMalformedXMLText      Errno = 15008 // ERROR_EVT_MALFORMED_XML_TEXT
	ErrEvtQueryResultStale      Errno = 15011 // ERROR_EVT_QUERY_RESULT_STALE
	ErrEvtQueryResultInvalidPos Errno = 15012 // ERROR_EVT_QUERY_RESULT_INVALID_POSITION
)

func (e Errno) Error() string {
	var name string
	switch e {
	case ErrAccessDenied:
		name = "ERROR_ACCESS_DENIED"
	case ErrInvalidParameter:
		name = "ERROR_INVALID_PARAMETER"
	case ErrInsufficientBuffer:
		name = "ERROR_INSUFFICIENT_BUFFER"
	case ErrNoMoreItems:
		name = "ERROR_NO_MORE_ITEMS"
	case ErrNotFound:
		name = "ERROR_NOT_FOUND"
	case ErrRPCServerUnavailable:
		name = "RPC_S_SERVER_UNAVAILABLE"
	case ErrRPCInvalidBound:
		name = "RPC_S_INVALID_BOUND"
	case ErrInvalidOperation:
		name = "ERROR_INVALID_OPERATION"
	case ErrEvtInvalidChannelPath:
		name = "ERROR_EVT_INVALID_CHANNEL_PATH"
	case ErrEvtInvalidQuery:
		name = "ERROR_EVT_INVALID_QUERY"
	case ErrEvtChannelNotFound:
		name = "ERROR_EVT_CHANNEL_NOT_FOUND"
	case ErrEvtMalformedXMLText:
		name = "ERROR_EVT_MALFORMED_XML_TEXT"
	case ErrEvtQueryResultStale:
		name = "ERROR_EVT_QUERY_RESULT_STALE"
	case ErrEvtQueryResultInvalidPos:
		name = "ERROR_EVT_QUERY_RESULT_INVALID_POSITION"
	default:
		return fmt.Sprintf("Windows error %d", uint32(e))
	}
	return fmt.Sprintf("%s (%d)", name, uint32(e))
}

// code returns the Windows error code err carries, or 0.
func code(err error) Errno {
	switch e := err.(type) {
	case nil:
		return 0
	case Errno:
		return e // the common case, without errors.As's allocation
	}
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// bookmarkGone reports errors that mean the bookmarked record is no longer
// in the channel (log cleared, rolled over) or the bookmark is unusable.
func bookmarkGone(err error) bool {
	switch code(err) {
	case ErrNotFound, ErrEvtQueryResultStale, ErrEvtQueryResultInvalidPos, ErrEvtMalformedXMLText:
		return true
	}
	return false
}

// permanent reports errors that retrying cannot cure: the channel does not
// exist, the query is wrong, or procbeat may not read the channel (the
// Security log needs Administrators or Event Log Readers).
func permanent(err error) bool {
	switch code(err) {
	case ErrEvtChannelNotFound, ErrEvtInvalidChannelPath, ErrEvtInvalidQuery, ErrAccessDenied:
		return true
	}
	return false
}
