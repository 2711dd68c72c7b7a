//go:build windows

package wineventlog

import (
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// EvtSubscribe and EvtRender flags (winevt.h).
const (
	evtSubscribeToFutureEvents      = 1
	evtSubscribeStartAtOldestRecord = 2
	evtSubscribeStartAfterBookmark  = 3
	evtSubscribeStrict              = 0x10000

	evtQueryChannelPath      = 0x1
	evtQueryForwardDirection = 0x100

	evtRenderEventXML = 1
	evtRenderBookmark = 2

	errorTimeout = 1460 // ERROR_TIMEOUT: EvtNext found nothing within its timeout
)

// winAPI calls wevtapi.dll directly (no cgo): golang.org/x/sys/windows has
// no wrappers for it. It translates each method into one call and each
// failure into an Errno; it decides nothing.
type winAPI struct {
	subscribe, query, next, render, createBookmark, updateBookmark, close *windows.LazyProc
}

func systemAPI() (API, error) {
	dll := windows.NewLazySystemDLL("wevtapi.dll")
	if err := dll.Load(); err != nil {
		return nil, err
	}
	a := &winAPI{
		subscribe:      dll.NewProc("EvtSubscribe"),
		query:          dll.NewProc("EvtQuery"),
		next:           dll.NewProc("EvtNext"),
		render:         dll.NewProc("EvtRender"),
		createBookmark: dll.NewProc("EvtCreateBookmark"),
		updateBookmark: dll.NewProc("EvtUpdateBookmark"),
		close:          dll.NewProc("EvtClose"),
	}
	for _, p := range []*windows.LazyProc{a.subscribe, a.query, a.next, a.render, a.createBookmark, a.updateBookmark, a.close} {
		if err := p.Find(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// errnoOf turns the last error of a failed call into an Errno.
func errnoOf(err error) error {
	var en syscall.Errno
	if errors.As(err, &en) && en != 0 {
		return Errno(en)
	}
	if err == nil {
		return errors.New("wevtapi call failed without an error code")
	}
	return err
}

func (a *winAPI) Subscribe(channel, query string, start Start, bookmark Handle) (Subscription, error) {
	ch, err := windows.UTF16PtrFromString(channel)
	if err != nil {
		return nil, err
	}
	q, err := windows.UTF16PtrFromString(query)
	if err != nil {
		return nil, err
	}
	var flags uintptr
	switch start {
	case StartAtOldest:
		flags = evtSubscribeStartAtOldestRecord
	case StartFuture:
		flags = evtSubscribeToFutureEvents
	case StartAfterBookmark:
		flags = evtSubscribeStartAfterBookmark | evtSubscribeStrict
	}
	// Manual reset, signalled at first: Wait resets it before the reader
	// drains the subscription, so an event arriving meanwhile signals it
	// again and nothing waits for the next one.
	signal, err := windows.CreateEvent(nil, 1, 1, nil)
	if err != nil {
		return nil, err
	}
	h, _, err := a.subscribe.Call(0, uintptr(signal), uintptr(unsafe.Pointer(ch)), uintptr(unsafe.Pointer(q)), uintptr(bookmark), 0, 0, flags)
	if h == 0 {
		_ = windows.CloseHandle(signal)
		return nil, errnoOf(err)
	}
	return &winSubscription{api: a, h: Handle(h), signal: signal}, nil
}

func (a *winAPI) QueryRecord(channel string, recordID uint64) (Handle, error) {
	ch, err := windows.UTF16PtrFromString(channel)
	if err != nil {
		return 0, err
	}
	q, err := windows.UTF16PtrFromString(fmt.Sprintf("*[System[EventRecordID=%d]]", recordID))
	if err != nil {
		return 0, err
	}
	rs, _, err := a.query.Call(0, uintptr(unsafe.Pointer(ch)), uintptr(unsafe.Pointer(q)), evtQueryChannelPath|evtQueryForwardDirection)
	if rs == 0 {
		return 0, errnoOf(err)
	}
	defer a.Close(Handle(rs))
	var h Handle
	var n uint32
	const timeoutMS = 5000
	ok, _, err := a.next.Call(rs, 1, uintptr(unsafe.Pointer(&h)), timeoutMS, 0, uintptr(unsafe.Pointer(&n)))
	if ok == 0 {
		if err = errnoOf(err); code(err) == ErrNoMoreItems {
			return 0, nil
		}
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	return h, nil
}

func (a *winAPI) RenderXML(h Handle, bookmark bool, buf []byte) (int, error) {
	flag := uintptr(evtRenderEventXML)
	if bookmark {
		flag = evtRenderBookmark
	}
	var used, count uint32
	var p uintptr
	if len(buf) > 0 {
		p = uintptr(unsafe.Pointer(&buf[0]))
	}
	ok, _, err := a.render.Call(0, uintptr(h), flag, uintptr(len(buf)), p, uintptr(unsafe.Pointer(&used)), uintptr(unsafe.Pointer(&count)))
	if ok == 0 {
		return int(used), errnoOf(err)
	}
	return int(used), nil
}

func (a *winAPI) CreateBookmark(xml string) (Handle, error) {
	var p uintptr
	if xml != "" {
		s, err := windows.UTF16PtrFromString(xml)
		if err != nil {
			return 0, err
		}
		p = uintptr(unsafe.Pointer(s))
	}
	h, _, err := a.createBookmark.Call(p)
	if h == 0 {
		return 0, errnoOf(err)
	}
	return Handle(h), nil
}

func (a *winAPI) UpdateBookmark(bookmark, event Handle) error {
	if ok, _, err := a.updateBookmark.Call(uintptr(bookmark), uintptr(event)); ok == 0 {
		return errnoOf(err)
	}
	return nil
}

func (a *winAPI) Close(h Handle) error {
	if ok, _, err := a.close.Call(uintptr(h)); ok == 0 {
		return errnoOf(err)
	}
	return nil
}

type winSubscription struct {
	api    *winAPI
	h      Handle
	signal windows.Handle
}

func (s *winSubscription) Next(events []Handle) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	var n uint32
	ok, _, err := s.api.next.Call(uintptr(s.h), uintptr(len(events)), uintptr(unsafe.Pointer(&events[0])), 0, 0, uintptr(unsafe.Pointer(&n)))
	if ok == 0 {
		err = errnoOf(err)
		if code(err) == errorTimeout {
			return 0, ErrNoMoreItems
		}
		return 0, err
	}
	return int(n), nil
}

func (s *winSubscription) Wait(timeout time.Duration) (bool, error) {
	ev, err := windows.WaitForSingleObject(s.signal, uint32(timeout/time.Millisecond))
	switch {
	case err != nil:
		return false, errnoOf(err)
	case ev == uint32(windows.WAIT_TIMEOUT):
		return false, nil
	}
	if err := windows.ResetEvent(s.signal); err != nil {
		return true, errnoOf(err)
	}
	return true, nil
}

func (s *winSubscription) Close() error {
	err := s.api.Close(s.h)
	if cerr := windows.CloseHandle(s.signal); err == nil && cerr != nil {
		err = errnoOf(cerr)
	}
	return err
}
