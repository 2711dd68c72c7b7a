package beater_test

import (
	"context"
	"testing"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/coverage"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/winfmt"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/testing/corpus"
)

// sourceOf says which record field fills a document field, per source and
// event type: coverage must be 100% of the records that carry the source
// field, i.e. nothing the source carries is lost.
var sourceOf = []struct {
	provider string
	eventID  uint16
	event    string // coverage event type
	data     string // event data name
	field    string // document field
}{
	{"Microsoft-Windows-Sysmon", 1, "start", "CommandLine", "process.command_line"},
	{"Microsoft-Windows-Sysmon", 1, "start", "CurrentDirectory", "process.working_directory"},
	{"Microsoft-Windows-Sysmon", 1, "start", "OriginalFileName", "process.pe.original_file_name"},
	{"Microsoft-Windows-Sysmon", 1, "start", "Company", "process.pe.company"},
	{"Microsoft-Windows-Sysmon", 1, "start", "ParentImage", "process.parent.executable"},
	{"Microsoft-Windows-Sysmon", 1, "start", "ParentProcessGuid", "process.parent.entity_id"},
	{"Microsoft-Windows-Sysmon", 1, "start", "IntegrityLevel", "process.Ext.token.integrity_level_name"},
	{"Microsoft-Windows-Sysmon", 1, "start", "TerminalSessionId", "process.Ext.session_info.id"},
	{"Microsoft-Windows-Sysmon", 1, "start", "LogonId", "process.Ext.authentication_id"},
	{"Microsoft-Windows-Sysmon", 10, "access", "GrantedAccess", "process.Ext.api.parameters.desired_access_numeric"},
	{"Microsoft-Windows-Sysmon", 10, "access", "CallTrace", "process.thread.Ext.call_stack_summary"},
	{"Microsoft-Windows-Sysmon", 10, "access", "TargetProcessGUID", "Target.process.entity_id"},
	{"Microsoft-Windows-Sysmon", 10, "access", "SourceThreadId", "process.thread.id"},
	{"Microsoft-Windows-Security-Auditing", 4688, "start", "CommandLine", "process.command_line"},
	{"Microsoft-Windows-Security-Auditing", 4688, "start", "TokenElevationType", "process.Ext.token.elevation_level"},
	{"Microsoft-Windows-Security-Auditing", 4688, "start", "MandatoryLabel", "process.Ext.token.integrity_level_name"},
	{"Microsoft-Windows-Security-Auditing", 4688, "start", "ParentProcessName", "process.parent.executable"},
	{"Microsoft-Windows-Security-Auditing", 4688, "start", "SubjectUserSid", "user.id"},
	{"Microsoft-Windows-Security-Auditing", 4689, "end", "Status", "process.exit_code"},
}

func TestCoverageKeepsEverythingTheSourceCarries(t *testing.T) {
	dir := corpus.Require(t)
	paths, err := beater.ExpandPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	// What the records carry, counted straight from the decoders.
	carried := make([]int, len(sourceOf))
	count := func(s source.Source) error {
		f, err := s.Open(context.Background(), source.Position{})
		if err != nil {
			return err
		}
		defer f.Close()
		for f.Next(context.Background()) {
			rec := f.Record()
			for i, s := range sourceOf {
				if rec.Provider == s.provider && rec.EventID == s.eventID {
					if v, _ := rec.Get(s.data); !winfmt.IsAbsent(v) {
						carried[i]++
					}
				}
			}
		}
		return f.Err()
	}
	opts := source.Options{Filter: mapping.Wants}
	for _, p := range paths {
		var err error
		if source.ArchiveKind(p) != "" {
			err = source.WalkArchive(context.Background(), p, opts, count)
		} else {
			err = count(source.NewFile(p, opts))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rep := coverage.New()
	// One document per record, as the manifest counts them: Sysmon and
	// Security twins kept apart (merge_test.go covers merging).
	cfg := config.Default()
	cfg.Procbeat.MergeSources = false
	b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, beater.DiscardOutput{}, beater.Options{Observe: rep.Add})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Replay(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for i, s := range sourceOf {
		src := "sysmon"
		if s.eventID > 1000 {
			src = "security"
		}
		got, total := rep.Share(src, s.event, s.field)
		if carried[i] == 0 {
			t.Errorf("%s %d %s: no record carries it; the check proves nothing", src, s.eventID, s.data)
			continue
		}
		// Documents may carry a field more often than the records (from
		// the tracker or another source field), never less.
		if got < carried[i] {
			t.Errorf("%s %s: %s in %d of %d documents, but %d records carry %s", src, s.event, s.field, got, total, carried[i], s.data)
		}
	}
}
