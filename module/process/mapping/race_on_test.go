//go:build race

package mapping_test

// raceEnabled says the race detector is on: it changes allocation
// counts from run to run, so tests comparing two counts skip.
const raceEnabled = true
