package config

// The zone database is built in: procbeat.timezone names IANA zones, and
// Windows has no zoneinfo files for time.LoadLocation to read (nor have
// minimal containers).
import _ "time/tzdata"
