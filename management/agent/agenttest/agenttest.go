//go:build agent

// Package agenttest plays Elastic Agent for tests: the client library's
// stub server (mock.StubServerV2) with a CheckinV2Impl that serves the units
// a test sets and records the states the component reports.
//
// The stub answers one expected message per observed one, and the client
// checks in only when a state changes (or every 25 s). To push a change
// promptly, the check-in waits up to a little over a second for one and
// otherwise ends the stream; the client reconnects at once and checks in
// again. States reported during a wait are recorded when the wait ends.
package agenttest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-client/v7/pkg/client"
	"github.com/elastic/elastic-agent-client/v7/pkg/client/mock"
	"github.com/elastic/elastic-agent-client/v7/pkg/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	protobuf "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procbeat/procbeat/testing/certs"
)

// wait is how long a check-in waits for a change before ending the
// stream; over a second, so that the client reconnects without backoff.
const wait = 1200 * time.Millisecond

// Agent is the fake Agent.
type Agent struct {
	srv   mock.StubServerV2
	token string
	tls   *tlsFiles

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	units    []*proto.UnitExpected
	version  uint64
	sent     uint64
	history  map[string][]proto.State // per unit, consecutive states deduplicated
	messages map[string]string        // per unit, the last message
}

type tlsFiles struct {
	caPEM, clientCert, clientKey []byte
}

// Start starts the fake Agent; withTLS serves TLS as the real Agent does
// (needed by StartUpInfo).
func Start(t testing.TB, withTLS bool) *Agent {
	t.Helper()
	a := &Agent{token: "procbeat-test-token", changed: make(chan struct{}), sent: ^uint64(0),
		history: map[string][]proto.State{}, messages: map[string]string{}}
	a.srv = mock.StubServerV2{CheckinV2Impl: a.checkin, ActionImpl: func(*proto.ActionResponse) error { return nil },
		ActionsChan: make(chan *mock.PerformAction, 10)}
	var opts []grpc.ServerOption
	if withTLS {
		creds, files, err := newTLS(t)
		if err != nil {
			t.Fatal(err)
		}
		a.tls = files
		opts = append(opts, grpc.Creds(creds))
	}
	if err := a.srv.Start(opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.srv.Stop)
	return a
}

// Client is an in-process client of the fake Agent, as NewV2FromReader
// would build it (without TLS).
func (a *Agent) Client() client.V2 {
	return client.NewV2(a.srv.GetTarget(), a.token, client.VersionInfo{Name: "procbeat-test"},
		client.WithGRPCDialOptions(grpc.WithTransportCredentials(insecure.NewCredentials())))
}

// StartUpInfo is what Agent writes to a component's standard input.
func (a *Agent) StartUpInfo(t testing.TB) []byte {
	t.Helper()
	if a.tls == nil {
		t.Fatal("agenttest: StartUpInfo needs Start(t, true)")
	}
	b, err := protobuf.Marshal(&proto.StartUpInfo{
		Addr: a.srv.GetTarget(), ServerName: "localhost", Token: a.token,
		CaCert: a.tls.caPEM, PeerCert: a.tls.clientCert, PeerKey: a.tls.clientKey,
		Services: []proto.ConnInfoServices{proto.ConnInfoServices_CheckinV2},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (a *Agent) checkin(obs *proto.CheckinObserved) *proto.CheckinExpected {
	a.mu.Lock()
	for _, u := range obs.Units {
		h := a.history[u.Id]
		if len(h) == 0 || h[len(h)-1] != u.State {
			a.history[u.Id] = append(h, u.State)
		}
		a.messages[u.Id] = u.Message
	}
	changed := a.changed
	pending := a.version != a.sent
	a.mu.Unlock()
	if !pending {
		select {
		case <-changed:
		case <-time.After(wait):
			return nil // the client reconnects and checks in again
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = a.version
	units := make([]*proto.UnitExpected, len(a.units))
	for i, u := range a.units {
		units[i] = protobuf.Clone(u).(*proto.UnitExpected)
	}
	return &proto.CheckinExpected{Units: units}
}

// update changes the units under the lock and wakes a waiting check-in.
func (a *Agent) update(f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f()
	a.version++
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *Agent) find(id string) *proto.UnitExpected {
	for _, u := range a.units {
		if u.Id == id {
			return u
		}
	}
	return nil
}

// SetUnit adds the unit or changes its configuration (typ is the unit's
// configuration type: "elasticsearch" for the output, procbeat/evtx ...
// for inputs); its expected state becomes healthy.
func (a *Agent) SetUnit(t testing.TB, id string, kind proto.UnitType, typ string, source map[string]any) {
	t.Helper()
	src, err := structpb.NewStruct(source)
	if err != nil {
		t.Fatal(err)
	}
	a.update(func() {
		u := a.find(id)
		if u == nil {
			u = &proto.UnitExpected{Id: id, Type: kind, LogLevel: proto.UnitLogLevel_INFO}
			a.units = append(a.units, u)
		}
		u.State = proto.State_HEALTHY
		u.ConfigStateIdx++
		u.Config = &proto.UnitExpectedConfig{Id: id, Type: typ, Source: src}
	})
}

// SetState sets the unit's expected state (STOPPED to stop it).
func (a *Agent) SetState(id string, st proto.State) {
	a.update(func() {
		if u := a.find(id); u != nil {
			u.State = st
		}
	})
}

// SetLogLevel sets the unit's log level.
func (a *Agent) SetLogLevel(id string, l proto.UnitLogLevel) {
	a.update(func() {
		if u := a.find(id); u != nil {
			u.LogLevel = l
		}
	})
}

// Remove removes the unit.
func (a *Agent) Remove(id string) {
	a.update(func() {
		a.units = slices.DeleteFunc(a.units, func(u *proto.UnitExpected) bool { return u.Id == id })
	})
}

// History is the states the unit reported, consecutive repeats removed.
func (a *Agent) History(id string) []proto.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.history[id])
}

// Message is the unit's last reported message.
func (a *Agent) Message(id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.messages[id]
}

// WaitState waits until the unit's last reported state is st, and returns
// its message; it fails the test after timeout.
func (a *Agent) WaitState(t testing.TB, id string, st proto.State, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h := a.History(id)
		if len(h) > 0 && h[len(h)-1] == st {
			return a.Message(id)
		}
		if time.Now().After(deadline) {
			t.Fatalf("unit %s: state %v not reached in %s; states %v, message %q", id, st, timeout, h, a.Message(id))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// InOrder reports whether want occurs in got in this order (other states
// may come between: the client coalesces quick updates).
func InOrder[S comparable](got, want []S) bool {
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

// newTLS makes a CA, a server certificate for localhost and a client
// certificate, as Agent does for each component.
func newTLS(t testing.TB) (credentials.TransportCredentials, *tlsFiles, error) {
	dir := t.TempDir()
	ca := certs.NewCA(t, dir, "agenttest CA")
	names := certs.Names{CommonName: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}
	srv := ca.Server(t, dir, "server", names)
	cli := ca.Client(t, dir, "client", names)
	pair, err := tls.X509KeyPair(srv.CertPEM, srv.KeyPEM)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	return creds, &tlsFiles{caPEM: ca.CertPEM, clientCert: cli.CertPEM, clientKey: cli.KeyPEM}, nil
}

// Watched is a client of the fake Agent that also samples, every few
// milliseconds, the state each unit reports: the component's view, without
// the delay of check-ins, for assertions on the moment a state is reached.
type Watched struct {
	client.V2
	changes chan client.UnitChanged
	done    chan struct{}

	mu      sync.Mutex
	units   map[string]*client.Unit
	history map[string][]client.UnitState
}

// Watch returns an in-process client whose units' states are sampled.
func (a *Agent) Watch() *Watched {
	w := &Watched{V2: a.Client(), changes: make(chan client.UnitChanged), done: make(chan struct{}),
		units: map[string]*client.Unit{}, history: map[string][]client.UnitState{}}
	go w.forward()
	go w.sample()
	return w
}

// UnitChanges forwards the client's changes, noting the units.
func (w *Watched) UnitChanges() <-chan client.UnitChanged { return w.changes }

// Stop stops the client and the sampling.
func (w *Watched) Stop() {
	select {
	case <-w.done:
		return
	default:
		close(w.done)
	}
	// The client blocks on changes nobody reads until it has stopped.
	stopped := make(chan struct{})
	go func() {
		for {
			select {
			case <-w.V2.UnitChanges():
			case <-stopped:
				return
			}
		}
	}()
	w.V2.Stop()
	close(stopped)
}

func (w *Watched) forward() {
	for {
		select {
		case ch := <-w.V2.UnitChanges():
			w.mu.Lock()
			w.units[ch.Unit.ID()] = ch.Unit
			w.mu.Unlock()
			select {
			case w.changes <- ch:
			case <-w.done:
				return
			}
		case <-w.done:
			return
		}
	}
}

func (w *Watched) sample() {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-w.done:
			return
		}
		w.mu.Lock()
		for id, u := range w.units {
			st, _, _ := u.State()
			if h := w.history[id]; len(h) == 0 || h[len(h)-1] != st {
				w.history[id] = append(h, st)
			}
		}
		w.mu.Unlock()
	}
}

// History is the unit's sampled states, consecutive repeats removed.
func (w *Watched) History(id string) []client.UnitState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.history[id])
}

// WaitState waits until the unit reports st and returns its message.
func (w *Watched) WaitState(t testing.TB, id string, st client.UnitState, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		u := w.units[id]
		w.mu.Unlock()
		if u != nil {
			if got, msg, _ := u.State(); got == st {
				return msg
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("unit %s: state %v not reported in %s; states %v", id, st, timeout, w.History(id))
		}
		time.Sleep(time.Millisecond)
	}
}
