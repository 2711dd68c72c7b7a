package config

import (
	"errors"
	"fmt"
	"sort"
)

// LabelValues returns the fields setting as the documents' labels: ECS
// labels are flat keywords, so numbers and booleans become their text, and
// an object or a list under fields is an error naming its key.
func (c *Config) LabelValues() (map[string]string, error) {
	if len(c.Fields) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(c.Fields))
	for k := range c.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(c.Fields))
	var errs []error
	for _, k := range keys {
		switch v := c.Fields[k].(type) {
		case string:
			out[k] = v
		case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
			out[k] = fmt.Sprint(v)
		default:
			errs = append(errs, bad("fields."+k, "documents carry fields as ECS labels, flat keywords: want a string, number or boolean, not %T", v))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// labelErrors is Validate's check of tags and fields.
func (c *Config) labelErrors() []error {
	var errs []error
	if _, err := c.LabelValues(); err != nil {
		errs = append(errs, err)
	}
	for i, t := range c.Tags {
		if t == "" {
			errs = append(errs, bad(fmt.Sprintf("tags.%d", i), "empty tag"))
		}
	}
	return errs
}
