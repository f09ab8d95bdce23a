package events_test

import (
	"testing"

	"github.com/coldmove/coldmove/events"
)

func BenchmarkDecodeMessage(b *testing.B) {
	structured := mustRead(b, "request-dedicated-host.json")
	bin := mustBinary(b, "request-binary.json")
	b.Run("structured", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := events.DecodeMessage(nil, structured, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := events.DecodeMessage(bin.Headers, bin.Body, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkNewAccepted(b *testing.B) {
	o := origin()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.NewAccepted(o, "job-1", deadline, now); err != nil {
			b.Fatal(err)
		}
	}
}
