package events

import "regexp"

var (
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	projectRE = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}-[a-z]+-[0-9]{1,3}$`)
)

// IsUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form,
// the form of ECS server and dedicated host ids.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

// IsProjectID reports whether s looks like a Huawei Cloud project id: 32
// hexadecimal characters.
func IsProjectID(s string) bool { return projectRE.MatchString(s) }

// IsRegion reports whether s looks like a Huawei Cloud region name such as
// cn-north-4 or ap-southeast-1.
func IsRegion(s string) bool { return regionRE.MatchString(s) }
