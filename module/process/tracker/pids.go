package tracker

// pidIndex maps (host, pid) to a slot: a map of pids per host. Events come
// in runs of one host, whose map is then at hand (the host compared, not
// hashed), and a pid alone hashes and compares faster than a host name and
// a pid. A host's map goes when it empties, so memory follows what is
// indexed.
type pidIndex struct {
	hosts map[string]map[uint32]int32
	// lastHost's map is last (nil when none is at hand).
	lastHost string
	last     map[uint32]int32
}

func newPIDIndex() pidIndex {
	return pidIndex{hosts: make(map[string]map[uint32]int32)}
}

// of is host's map; when host has none, a new one if create, else nil.
func (x *pidIndex) of(host string, create bool) map[uint32]int32 {
	if x.last != nil && host == x.lastHost {
		return x.last
	}
	m := x.hosts[host]
	if m == nil {
		if !create {
			return nil
		}
		m = make(map[uint32]int32)
		x.hosts[host] = m
	}
	x.lastHost, x.last = host, m
	return m
}

func (x *pidIndex) get(host string, pid uint32) (int32, bool) {
	s, ok := x.of(host, false)[pid] // a nil map finds nothing
	return s, ok
}

func (x *pidIndex) set(host string, pid uint32, s int32) {
	x.of(host, true)[pid] = s
}

func (x *pidIndex) delete(host string, pid uint32) {
	m := x.of(host, false)
	if m == nil {
		return
	}
	delete(m, pid)
	if len(m) == 0 {
		delete(x.hosts, host)
		x.lastHost, x.last = "", nil
	}
}

// len is the number of (host, pid) pairs indexed.
func (x *pidIndex) len() int {
	n := 0
	for _, m := range x.hosts {
		n += len(m)
	}
	return n
}

func (x *pidIndex) clear() {
	clear(x.hosts)
	x.lastHost, x.last = "", nil
}
