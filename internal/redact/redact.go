// Package redact hides credentials in text that is printed, logged or
// returned in an error: the password of any URL written as
// scheme://user:password@host.
package redact

import "regexp"

// Mask replaces a secret.
const Mask = "xxxxx"

// userinfo matches scheme://user:password@. The password runs to the last
// '@' before white space, so one holding '/' or ':' is hidden whole; the
// user name is kept, as url.URL.Redacted does.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/@\s:"'<>]*):[^@\s"'<>]*@`)

// URLs returns s with the password of every URL in it replaced by Mask.
func URLs(s string) string {
	if !containsScheme(s) {
		return s
	}
	return userinfo.ReplaceAllString(s, "${1}:"+Mask+"@")
}

// containsScheme is a cheap test for "://", so that most log lines skip
// the regular expression.
func containsScheme(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == ':' && s[i+1] == '/' && s[i+2] == '/' {
			return true
		}
	}
	return false
}
