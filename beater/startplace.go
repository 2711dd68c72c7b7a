package beater

import (
	"fmt"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/module/process/source"
)

// startPlace says where rd, opened at start, begins reading, for the
// debug log: start.Offset is the source's own measure, which for an EVTX
// file packs a chunk and the offset in it (evtx.Position.Pack) and means
// nothing to a reader as one number.
func startPlace(rd source.Reader, start source.Position) string {
	if start.IsZero() {
		return "from its start"
	}
	if start.Bookmark != "" {
		return fmt.Sprintf("after record %d (its bookmark)", start.Offset)
	}
	if _, export := rd.(source.Locator); export {
		return fmt.Sprintf("at byte %d", start.Offset)
	}
	if _, isEVTX := rd.(interface{ Filtered() int64 }); isEVTX {
		p := evtx.UnpackPosition(start.Offset, start.Check)
		return fmt.Sprintf("at chunk %d, offset %d", p.Chunk, p.Offset)
	}
	return fmt.Sprintf("at offset %d", start.Offset)
}
