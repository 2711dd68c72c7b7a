//go:build agent

package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/elastic-agent-client/v7/pkg/client"
	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/keystore"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/monitoring"
)

// DefaultHealthPeriod is how often the output's health is reported.
const DefaultHealthPeriod = 10 * time.Second

// Options configure Run.
type Options struct {
	// Base is the command line's configuration (-E, --path.*), under the
	// units' settings. Its inputs and outputs are ignored: under Agent they
	// come from the units alone.
	Base    *libconfig.C
	Secrets keystore.Keystore
	Log     monitoring.Logger
	// Level is the logger's level; the units' log level sets it.
	Level zap.AtomicLevel
	// HealthPeriod is how often the output's health is checked and
	// reported; zero is DefaultHealthPeriod.
	HealthPeriod time.Duration
	// Beater are the options of the beater the units configure.
	Beater beater.Options
}

// Run serves the Agent's units over cl until ctx ends, then stops every
// input, drains the pipeline and reports the units stopped.
func Run(ctx context.Context, cl client.V2, o Options) error {
	if o.HealthPeriod <= 0 {
		o.HealthPeriod = DefaultHealthPeriod
	}
	if o.Log == nil {
		o.Log = monitoring.NopLogger{}
	}
	if err := cl.Start(ctx); err != nil {
		return fmt.Errorf("connecting to Elastic Agent: %w", err)
	}
	defer func() {
		// The client blocks on sending changes and errors nobody reads
		// any more; read them until it has stopped.
		stopped := make(chan struct{})
		go func() {
			for {
				select {
				case <-cl.UnitChanges():
				case <-cl.Errors():
				case <-stopped:
					return
				}
			}
		}()
		cl.Stop()
		close(stopped)
	}()
	go func() {
		for {
			select {
			case err := <-cl.Errors():
				if err != nil && !errors.Is(err, context.Canceled) {
					o.Log.Warnf("Elastic Agent connection: %v", err)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	m := &manager{o: o, dec: decoder{base: o.Base, secrets: o.Secrets}, log: o.Log,
		ctx: ctx, inputs: map[string]*inputUnit{}}
	tick := time.NewTicker(o.HealthPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return m.shutdown()
		case ch := <-cl.UnitChanges():
			m.change(ch)
		case <-tick.C:
			m.reportOutput()
			m.reportInputs()
		}
	}
}

// manager holds what the units configured. Only Run's goroutine uses it.
type manager struct {
	o   Options
	dec decoder
	log monitoring.Logger
	ctx context.Context

	managed   *beater.Managed // nil until the output unit is configured
	output    *client.Unit
	outputSrc *structpb.Struct
	inputs    map[string]*inputUnit
}

type inputUnit struct {
	unit    *client.Unit
	inputs  []config.Input
	started int // inputs running under inputID(unit, 0..started-1)
}

func inputID(u *client.Unit, i int) string { return u.ID() + "/" + strconv.Itoa(i) }

func (m *manager) change(ch client.UnitChanged) {
	u := ch.Unit
	if ch.Type == client.UnitChangedRemoved {
		m.remove(u)
		return
	}
	exp := u.Expected()
	if ch.Triggers&client.TriggeredLogLevelChange != 0 || ch.Type == client.UnitChangedAdded {
		m.setLevel()
	}
	if exp.State == client.UnitStateStopped {
		m.stop(u)
		return
	}
	if ch.Type == client.UnitChangedModified && ch.Triggers&(client.TriggeredConfigChange|client.TriggeredStateChange) == 0 {
		return
	}
	if u.Type() == client.UnitTypeOutput {
		m.setOutput(u)
	} else {
		m.setInput(u)
	}
}

// setLevel sets the logger to the most verbose level any unit asks for.
func (m *manager) setLevel() {
	level := zapcore.FatalLevel
	units := make([]*client.Unit, 0, len(m.inputs)+1)
	if m.output != nil {
		units = append(units, m.output)
	}
	for _, iu := range m.inputs {
		units = append(units, iu.unit)
	}
	for _, u := range units {
		if l := zapLevel(u.Expected().LogLevel); l < level {
			level = l
		}
	}
	if level != zapcore.FatalLevel && m.o.Level != (zap.AtomicLevel{}) && m.o.Level.Level() != level {
		m.o.Level.SetLevel(level)
		m.log.Infof("log level set to %s by Elastic Agent", level)
	}
}

func zapLevel(l client.UnitLogLevel) zapcore.Level {
	switch l {
	case client.UnitLogLevelError:
		return zapcore.ErrorLevel
	case client.UnitLogLevelWarn:
		return zapcore.WarnLevel
	case client.UnitLogLevelInfo:
		return zapcore.InfoLevel
	default: // debug, trace
		return zapcore.DebugLevel
	}
}

func (m *manager) setOutput(u *client.Unit) {
	src := u.Expected().Config.GetSource()
	if m.managed != nil && m.output == u && proto.Equal(src, m.outputSrc) {
		return
	}
	m.output = u
	m.setLevel()
	_ = u.UpdateState(client.UnitStateConfiguring, "applying the output configuration", nil)
	cfg, err := m.dec.output(src.AsMap())
	if err != nil {
		m.fail(u, err)
		return
	}
	switch {
	case m.managed == nil:
		if err := m.newBeater(cfg); err != nil {
			m.fail(u, err)
			return
		}
	case !m.managed.KeepsBatching(cfg.Output):
		// A new batching takes a new pipeline: the old one drains (what it
		// cannot deliver stays behind the checkpoints and is read again),
		// and the inputs start again on the new one.
		if err := m.closeBeater(); err != nil {
			m.log.Warnf("output unit %s: %v", u.ID(), err)
		}
		if err := m.newBeater(cfg); err != nil {
			m.fail(u, err)
			return
		}
	default:
		if err := m.managed.ReplaceOutput(cfg.Output); err != nil {
			m.fail(u, err)
			return
		}
	}
	m.outputSrc = src
	m.log.Infof("output configured by Elastic Agent (unit %s)", u.ID())
	m.reportOutput()
}

// newBeater assembles the beater for cfg's output and starts the inputs
// configured so far.
func (m *manager) newBeater(cfg config.Config) error {
	// The pipeline outlives ctx: shutdown drains it after ctx ends.
	mg, err := beater.NewManaged(context.WithoutCancel(m.ctx), cfg, m.log, m.o.Beater)
	if err != nil {
		return err
	}
	m.managed = mg
	for _, iu := range m.inputs {
		m.startInputs(iu)
	}
	return nil
}

func (m *manager) setInput(u *client.Unit) {
	exp := u.Expected().Config
	iu, ok := m.inputs[u.ID()]
	if !ok {
		iu = &inputUnit{unit: u}
		m.inputs[u.ID()] = iu
		m.setLevel()
	}
	_ = u.UpdateState(client.UnitStateConfiguring, "applying the input configuration", nil)
	ins, err := m.dec.input(exp.GetType(), exp.GetSource().AsMap())
	if err != nil {
		// Nothing of a unit whose configuration is wrong keeps running.
		iu.inputs = nil
		if stopErr := m.stopInputs(iu); stopErr != nil {
			m.log.Warnf("unit %s: %v", u.ID(), stopErr)
		}
		m.fail(u, err)
		return
	}
	iu.unit, iu.inputs = u, ins
	if m.managed == nil {
		_ = u.UpdateState(client.UnitStateConfiguring, "waiting for the output unit", nil)
		return
	}
	m.startInputs(iu)
}

// startInputs runs the unit's inputs and stops those it no longer has.
func (m *manager) startInputs(iu *inputUnit) {
	for i, in := range iu.inputs {
		if err := m.managed.StartInput(inputID(iu.unit, i), in); err != nil {
			m.fail(iu.unit, err)
			return
		}
	}
	for i := len(iu.inputs); i < iu.started; i++ {
		if err := m.managed.StopInput(inputID(iu.unit, i)); err != nil {
			m.log.Warnf("unit %s: %v", iu.unit.ID(), err)
		}
	}
	iu.started = len(iu.inputs)
	m.reportInput(iu)
}

// reportInput reports a running input unit healthy, or degraded with the
// files or directories its last scan could not read.
func (m *manager) reportInput(iu *inputUnit) {
	var errs []error
	for i := range iu.started {
		errs = append(errs, m.managed.InputHealth(inputID(iu.unit, i)))
	}
	if err := errors.Join(errs...); err != nil {
		_ = iu.unit.UpdateState(client.UnitStateDegraded, "not read: "+err.Error(), nil)
		return
	}
	var paths int
	var channels []string
	for _, in := range iu.inputs {
		paths += len(in.Paths)
		channels = append(channels, in.Channels...)
	}
	msg := fmt.Sprintf("reading %d path patterns", paths)
	if len(channels) > 0 {
		msg = "reading channels " + strings.Join(channels, ", ")
	}
	_ = iu.unit.UpdateState(client.UnitStateHealthy, msg, nil)
}

// reportInputs refreshes the state of every running input unit.
func (m *manager) reportInputs() {
	if m.managed == nil {
		return
	}
	for _, iu := range m.inputs {
		switch st, _, _ := iu.unit.State(); st {
		case client.UnitStateHealthy, client.UnitStateDegraded:
			if iu.started > 0 {
				m.reportInput(iu)
			}
		}
	}
}

// stopInputs stops the unit's inputs and waits for their events to be
// acknowledged and checkpointed.
func (m *manager) stopInputs(iu *inputUnit) error {
	var errs []error
	if m.managed != nil {
		for i := range iu.started {
			errs = append(errs, m.managed.StopInput(inputID(iu.unit, i)))
		}
	}
	iu.started = 0
	return errors.Join(errs...)
}

// stop handles a unit the Agent wants stopped: its inputs (all of them for
// the output unit) stop and drain before it is reported stopped.
func (m *manager) stop(u *client.Unit) {
	if st, _, _ := u.State(); st == client.UnitStateStopped {
		return
	}
	_ = u.UpdateState(client.UnitStateStopping, "draining: waiting for Elasticsearch to acknowledge the events in flight", nil)
	var err error
	if u.Type() == client.UnitTypeOutput {
		err = m.closeBeater()
		m.output, m.outputSrc = nil, nil
	} else if iu, ok := m.inputs[u.ID()]; ok {
		err = m.stopInputs(iu)
		delete(m.inputs, u.ID())
	}
	msg := "stopped"
	if err != nil {
		msg = "stopped: " + err.Error()
		m.log.Warnf("unit %s %s", u.ID(), msg)
	}
	_ = u.UpdateState(client.UnitStateStopped, msg, nil)
}

func (m *manager) remove(u *client.Unit) {
	var err error
	if u.Type() == client.UnitTypeOutput {
		if m.output == u {
			err = m.closeBeater()
			m.output, m.outputSrc = nil, nil
		}
	} else if iu, ok := m.inputs[u.ID()]; ok {
		err = m.stopInputs(iu)
		delete(m.inputs, u.ID())
	}
	if err != nil {
		m.log.Warnf("unit %s removed: %v", u.ID(), err)
	}
}

// closeBeater stops every input and drains the pipeline; input units keep
// their configuration and start again with the next output.
func (m *manager) closeBeater() error {
	if m.managed == nil {
		return nil
	}
	err := m.managed.Close()
	m.managed = nil
	for _, iu := range m.inputs {
		iu.started = 0
		if st, _, _ := iu.unit.State(); st != client.UnitStateFailed {
			_ = iu.unit.UpdateState(client.UnitStateConfiguring, "waiting for the output unit", nil)
		}
	}
	return err
}

func (m *manager) fail(u *client.Unit, err error) {
	m.log.Errorf("unit %s: %v", u.ID(), err)
	_ = u.UpdateState(client.UnitStateFailed, err.Error(), nil)
}

// reportOutput reports the output unit healthy, or degraded with the
// reason Elasticsearch gives; a failed or stopping unit keeps its state.
func (m *manager) reportOutput() {
	if m.managed == nil || m.output == nil {
		return
	}
	switch st, _, _ := m.output.State(); st {
	case client.UnitStateFailed, client.UnitStateStopping, client.UnitStateStopped:
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, m.o.HealthPeriod)
	defer cancel()
	if ok, reason := m.managed.OutputHealth(ctx, m.o.HealthPeriod); ok {
		_ = m.output.UpdateState(client.UnitStateHealthy, "delivering to Elasticsearch", nil)
	} else {
		_ = m.output.UpdateState(client.UnitStateDegraded, reason, nil)
	}
}

// shutdown stops everything when procbeat is told to stop (SIGTERM).
func (m *manager) shutdown() error {
	units := make([]*client.Unit, 0, len(m.inputs)+1)
	for _, iu := range m.inputs {
		units = append(units, iu.unit)
	}
	if m.output != nil {
		units = append(units, m.output)
	}
	for _, u := range units {
		_ = u.UpdateState(client.UnitStateStopping, "procbeat is stopping: draining", nil)
	}
	err := m.closeBeater()
	for _, u := range units {
		_ = u.UpdateState(client.UnitStateStopped, "stopped", nil)
	}
	return err
}
