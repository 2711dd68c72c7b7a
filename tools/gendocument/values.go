package main

// frequentValues are, per string field, the values the mapper writes into
// nearly every document (constants of module/process/mapping and winfmt,
// the default namespace, Windows' integrity levels). The encoder compares
// a field with them first and appends a match with its key as one
// constant, escaped here at generation time by the same jsonstr.Append;
// any other value takes the escaping path. So the list only decides speed,
// never output: a value missing or gone stale costs an escape scan.
//
// A string array field lists the values of its one-element arrays.
var frequentValues = map[string][]string{
	"agent.type":                             {"endpoint"},
	"data_stream.dataset":                    {"endpoint.events.process", "endpoint.events.api"},
	"data_stream.namespace":                  {"default"},
	"data_stream.type":                       {"logs"},
	"ecs.version":                            {"8.11.0"},
	"event.action":                           {"start", "end", "OpenProcess"},
	"event.category":                         {"process", "api"},
	"event.code":                             {"1", "5", "10", "4688", "4689"},
	"event.dataset":                          {"endpoint.events.process", "endpoint.events.api"},
	"event.kind":                             {"event"},
	"event.module":                           {"endpoint"},
	"event.outcome":                          {"success"},
	"event.provider":                         {"Microsoft-Windows-Sysmon", "Microsoft-Windows-Security-Auditing"},
	"event.type":                             {"start", "end", "access"},
	"host.os.family":                         {"windows"},
	"host.os.name":                           {"Windows"},
	"host.os.platform":                       {"windows"},
	"host.os.type":                           {"windows"},
	"process.Ext.token.elevation_level":      {"default", "limited", "full"},
	"process.Ext.token.integrity_level_name": {"system", "high", "medium", "low", "untrusted"},
	"winlog.event_data.IntegrityLevel":       {"System", "High", "Medium", "Low", "AppContainer", "Untrusted"},
}
