package mapping

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// maxDerivedHostIDs bounds the cache of derived host ids; a collection
// holds far fewer hosts, and past the bound ids are only derived again.
const maxDerivedHostIDs = 4096

// hostIDs gives each document its host.id. It is per Mapper and, like the
// Mapper, not safe for concurrent use.
type hostIDs struct {
	local, localShort, localID string            // this machine
	fixed                      map[string]string // configured, by lower-cased name
	derived                    map[string]string // cache of DeriveHostID
}

func (h *hostIDs) init(local Host, fixed map[string]string) {
	h.local = strings.ToLower(local.Name)
	h.localShort, _, _ = strings.Cut(h.local, ".")
	h.localID = local.ID
	h.fixed = make(map[string]string, len(fixed))
	for name, id := range fixed {
		h.fixed[strings.ToLower(name)] = id
	}
	h.derived = make(map[string]string)
}

// id returns the host.id of the host named name (lower case; short is its
// first label): the configured id of that name or short name, this
// machine's id for its own events, else the id derived from the name. A
// document without a host name has no host.id: there is nothing to
// derive it from.
func (h *hostIDs) id(name, short string) string {
	if id, ok := h.fixed[name]; ok {
		return id
	}
	if id, ok := h.fixed[short]; ok && short != "" {
		return id
	}
	if h.localID != "" && h.local != "" && (name == h.local || short == h.localShort) {
		return h.localID
	}
	if name == "" {
		return ""
	}
	if id, ok := h.derived[name]; ok {
		return id
	}
	if len(h.derived) >= maxDerivedHostIDs {
		clear(h.derived)
	}
	id := DeriveHostID(name)
	h.derived[name] = id
	return id
}

// dnsNamespace is the DNS namespace of RFC 9562 (6ba7b810-9dad-11d1-80b4-
// 00c04fd430c8), in which name-based UUIDs of host names are conventional.
var dnsNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// DeriveHostID returns the host.id of a replayed host that has no
// configured id: the name-based UUID (version 5, SHA-1, RFC 9562) of its
// lower-cased name in the DNS namespace. The same name always gives the
// same id, on any machine and in any tool that computes UUIDv5 (Python:
// uuid.uuid5(uuid.NAMESPACE_DNS, name)).
func DeriveHostID(name string) string {
	h := sha1.New()
	h.Write(dnsNamespace[:])
	h.Write([]byte(strings.ToLower(name)))
	var sum [sha1.Size]byte
	u := h.Sum(sum[:0])[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:16])
	return string(b[:])
}
