package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckKeys(t *testing.T) {
	t.Parallel()
	type want struct {
		Problems []Problem
		Tainted  []string
		Repeated []string
		Valid    bool
	}
	tests := map[string]struct {
		data string
		want want
	}{
		"flat":                 {`{"a":1,"b":"x","c":null}`, want{Valid: true}},
		"same key in siblings": {`{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]}`, want{Valid: true}},
		"scalar document":      {`"x"`, want{Valid: true}},
		"huge number":          {`{"n":1e999}`, want{Valid: true}},
		"top-level repeat": {`{"a":1,"b":2,"a":3}`, want{Valid: true,
			Problems: []Problem{{"data", `repeats the key "a"`}}, Tainted: []string{"a"}, Repeated: []string{"a"}}},
		"value that is a key's name": {`{"a":"a","b":"a"}`, want{Valid: true}},
		"nested repeat": {`{"t":{"x":{"k":1,"k":2}}}`, want{Valid: true,
			Problems: []Problem{{"t.x", `repeats the key "k"`}}, Tainted: []string{"t"}}},
		"repeat in an array": {`{"l":[0,{"k":1,"k":2}]}`, want{Valid: true,
			Problems: []Problem{{"l[1]", `repeats the key "k"`}}, Tainted: []string{"l"}}},
		"top-level array": {`[{"k":1,"k":2}]`, want{Valid: true,
			Problems: []Problem{{"data[0]", `repeats the key "k"`}}}},
		"odd key names": {`{"a.b":{"c d":{"k":1,"k":2}},"":{"\u0000":1,"\u0000":2}}`, want{Valid: true,
			Problems: []Problem{{`["a.b"]["c d"]`, `repeats the key "k"`}, {`[""]`, `repeats the key "\x00"`}},
			Tainted:  []string{"", "a.b"}}},
		"long key clipped": {`{"` + strings.Repeat("k", 100) + `":1,"` + strings.Repeat("k", 100) + `":2}`, want{Valid: true,
			Problems: []Problem{{"data", `repeats the key "` + strings.Repeat("k", maxKeyEcho) + `"`}},
			Tainted:  []string{strings.Repeat("k", 100)}, Repeated: []string{strings.Repeat("k", 100)}}},
		"long path clipped": {`{"` + strings.Repeat(`k`, 64) + `":` + strings.Repeat(`{"`+strings.Repeat("k", 64)+`":`, 9) + `{"a":1,"a":2}` + strings.Repeat("}", 10), want{Valid: true,
			Problems: []Problem{{strings.Repeat(strings.Repeat("k", 64)+".", 4)[:maxEcho], `repeats the key "a"`}},
			Tainted:  []string{strings.Repeat("k", 64)}}},
		"three times is two problems": {`{"a":1,"a":2,"a":3}`, want{Valid: true,
			Problems: []Problem{{"data", `repeats the key "a"`}, {"data", `repeats the key "a"`}}, Tainted: []string{"a"}, Repeated: []string{"a"}}},
		"too deep": {`{"d":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,"e":1}`, want{Valid: true,
			Problems: []Problem{{"d" + strings.Repeat("[0]", 31), "nests deeper than 32 levels"}}, Tainted: []string{"d"}}},
		"repeats past the depth are not tracked": {`{"d":` + nestedKeys(40) + `}`, want{Valid: true,
			Problems: []Problem{{"d" + strings.Repeat(".x", 31), "nests deeper than 32 levels"}}, Tainted: []string{"d"}}},
		"problems are bounded": {`{` + strings.Repeat(`"a":1,`, 50) + `"a":1}`, want{Valid: true,
			Problems: repeatProblem(maxKeyProblems), Tainted: []string{"a"}, Repeated: []string{"a"}}},
		"empty":                  {``, want{}},
		"whitespace":             {"  \n", want{}},
		"truncated":              {`{"a":{"b":1}`, want{}},
		"trailing value":         {`{} {}`, want{}},
		"trailing garbage":       {`{}x`, want{}},
		"trailing comma":         {`{"a":1,}`, want{}},
		"missing colon":          {`{"a" 1}`, want{}},
		"key not a string":       {`{1:2}`, want{}},
		"unbalanced":             {`{"a":[1}`, want{}},
		"repeat, then malformed": {`{"a":1,"a":2,`, want{Problems: []Problem{{"data", `repeats the key "a"`}}, Tainted: []string{"a"}, Repeated: []string{"a"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rep, err := checkKeys([]byte(tc.data), "data", maxDepth)
			got := want{Problems: rep.problems, Valid: err == nil}
			for k := range rep.tainted {
				got.Tainted = append(got.Tainted, k)
			}
			for k := range rep.repeated {
				got.Repeated = append(got.Repeated, k)
			}
			if diff := cmp.Diff(tc.want, got, cmpSorted); diff != "" {
				t.Errorf("checkKeys(%.60q) (-want +got):\n%s", tc.data, diff)
			}
			if got.Valid != json.Valid([]byte(tc.data)) {
				t.Errorf("valid = %v, json.Valid says otherwise", got.Valid)
			}
		})
	}
}

// cmpSorted compares string slices as sets.
var cmpSorted = cmp.Transformer("sorted", func(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func nestedKeys(n int) string {
	return strings.Repeat(`{"x":`, n) + `{"k":1,"k":2}` + strings.Repeat("}", n)
}

func repeatProblem(n int) []Problem {
	ps := make([]Problem, n)
	for i := range ps {
		ps[i] = Problem{"data", `repeats the key "a"`}
	}
	return ps
}

// FuzzCheckKeys: checkKeys never panics, judges validity exactly as
// json.Valid does, keeps its output bounded, and finds no problem in a
// document that encoding/json writes (which never repeats a key) unless it
// nests too deep.
func FuzzCheckKeys(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `1`, `"s"`, `null`, `{"a":1,"a":2}`, `{"t":{"k":1,"k":[{"k":1,"k":2}]}}`,
		`{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, `{"a":1} {}`, `{"a":1,}`,
		`{"t\u0061":1,"ta":2}`, "{\"\xff\":1,\"\xfe\":2}", `[1,[2,{"x":{"y":1,"y":2}}]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := checkKeys(data, "data", maxDepth)
		if valid := json.Valid(data); (err == nil) != valid {
			t.Fatalf("checkKeys err = %v, json.Valid = %v", err, valid)
		}
		if len(rep.problems) > maxKeyProblems {
			t.Fatalf("%d problems", len(rep.problems))
		}
		for _, p := range rep.problems {
			if p.Field == "" || len(p.Field) > maxEcho || p.Problem == "" || len(p.Problem) > 2*maxKeyEcho+40 {
				t.Fatalf("unbounded or empty problem %+v", p)
			}
		}
		if err != nil || len(rep.problems) > 0 {
			return
		}
		// Round trip: what encoding/json reads and writes again has no
		// repeated key, so it is clean too.
		var v any
		if json.Unmarshal(data, &v) != nil {
			return // a number out of range, say
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := checkKeys(b, "data", maxDepth); err != nil || len(rep.problems) > 0 {
			t.Fatalf("re-encoded %q: %v %v", b, err, rep.problems)
		}
	})
}

// BenchmarkCheckKeys runs the checker over payloads of the largest
// accepted size shaped to be costly: many keys in one object, many small
// objects, and many empty arrays at the deepest level.
func BenchmarkCheckKeys(b *testing.B) {
	var wide, small, deep strings.Builder
	wide.WriteString("{")
	for i := 0; wide.Len() < MaxDataSize-32; i++ {
		fmt.Fprintf(&wide, `"k%d":1,`, i)
	}
	wide.WriteString(`"end":1}`)
	small.WriteString("[")
	for small.Len() < MaxDataSize-32 {
		small.WriteString(`{"a":1,"b":2},`)
	}
	small.WriteString("{}]")
	key := strings.Repeat("k", 64)
	deep.WriteString(strings.Repeat(`{"`+key+`":`, 31) + "[")
	for deep.Len() < MaxDataSize-32*70 {
		deep.WriteString("[],")
	}
	deep.WriteString("[]]" + strings.Repeat("}", 31))
	for name, data := range map[string]string{"wide": wide.String(), "small objects": small.String(), "deep": deep.String()} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := checkKeys([]byte(data), "data", maxDepth); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
