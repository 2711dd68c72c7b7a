package main

import "github.com/procbeat/procbeat/module/process/source"

// evtxOpener plugs the EVTX reader into the sources.
var evtxOpener source.EVTXOpener
