package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/procbeat/procbeat/pipeline"
)

// A reserved record keeps its source's checkpoint before it until the
// document it went into is acknowledged, and a merged document of two
// sources' records acknowledges both, linked.
func TestReservedAndMerged(t *testing.T) {
	out := &gateOutput{lim: pipeline.Limits{MaxEvents: 1, FlushInterval: time.Millisecond, Workers: 1}}
	reg := newReg(t)
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{CheckpointEveryBatch: true})
	sys, sec := p.Client("sysmon"), p.Client("security")
	ctx := context.Background()
	held := sys.Reserve(pipeline.Position{Offset: 1}) // a start waiting for its twin
	if err := sys.Publish(ctx, ev("sysmon", 2, 10)); err != nil {
		t.Fatal(err)
	}
	twin := sec.Reserve(pipeline.Position{Offset: 7})
	for p.Pending() > 0 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := reg.Position("sysmon"); ok {
		t.Fatal("sysmon checkpoint passed its held record")
	}
	if err := p.PublishReserved(ctx, ev("merged", 1, 10), held, twin); err != nil {
		t.Fatal(err)
	}
	if err := p.PublishReserved(ctx, ev("x", 1, 10)); err == nil {
		t.Fatal("no tickets accepted")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if pos, _ := reg.Position("sysmon"); pos.Offset != 2 {
		t.Errorf("sysmon checkpoint %d, want 2", pos.Offset)
	}
	if pos, _ := reg.Position("security"); pos.Offset != 7 {
		t.Errorf("security checkpoint %d, want 7", pos.Offset)
	}
	if got := out.delivered(); got["merged-1"] != 1 || got["sysmon-2"] != 1 {
		t.Errorf("delivered %v", got)
	}
}
