package bus

import "testing"

func TestCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stream, filter string
		want           bool
	}{
		{"coldmove.>", "coldmove.>", true},
		{">", "coldmove.>", true},
		{"*.>", "coldmove.>", true},
		{"coldmove.*", "coldmove.>", false},
		{"coldmove.*.>", "coldmove.>", false},
		{"coldmove.placement.>", "coldmove.>", false},
		{"other.>", "coldmove.>", false},
		{"coldmove", "coldmove.>", false},
		{"prod.>", "prod.coldmove.>", true},
		{"prod.coldmove.>", "prod.coldmove.>", true},
		{"prod.*.>", "prod.coldmove.>", true},
		{"prod.coldmove.x", "prod.coldmove.>", false},
		{"coldmove.placement.requested.*", "coldmove.placement.requested.*", true},
		{"coldmove.placement.requested.x", "coldmove.placement.requested.*", false},
	}
	for _, tc := range tests {
		if got := covers(tc.stream, tc.filter); got != tc.want {
			t.Errorf("covers(%q, %q) = %v, want %v", tc.stream, tc.filter, got, tc.want)
		}
	}
	if captures(nil, "coldmove.>") {
		t.Error("captures(nil) = true")
	}
	if !captures([]string{"a.b", "coldmove.>"}, "coldmove.>") {
		t.Error("captures misses the second subject")
	}
}
