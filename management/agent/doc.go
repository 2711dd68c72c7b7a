//go:build agent

// Package agent runs procbeat under Elastic Agent: it takes the whole
// configuration from the Agent's units (one Elasticsearch output unit, any
// number of input units), applies every change to a running
// beater.Managed without restarting, and reports each unit's state back.
//
// Licence: this package links github.com/elastic/elastic-agent-client/v7,
// which is under the Elastic License (v7.18.1's LICENSE.txt is the Elastic
// License Agreement of 2018, Elastic-1.0 in NOTICE terms). It is compiled
// only with the build tag `agent`; a binary built with -tags agent is
// therefore subject to the Elastic License for that module as well as to
// Apache-2.0 for procbeat's own code, while the default build links no
// Elastic-licensed code (tools/notice's tests check both builds).
package agent
