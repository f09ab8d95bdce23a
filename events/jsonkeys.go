package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// maxDepth is the deepest nesting of objects and arrays read in a payload
// (the payload object itself is level 1); deeper data is refused with a
// problem rather than read.
const maxDepth = 32

// maxKeyProblems bounds the problems one document's keys can raise, so
// that a hostile payload cannot make its rejection larger than itself.
const maxKeyProblems = 8

// maxKeyEcho bounds a key quoted in a problem or a field path.
const maxKeyEcho = 64

// keyReport is what [checkKeys] found in a well-formed JSON document.
type keyReport struct {
	// problems names repeated keys and too deep nesting, in document order,
	// at most maxKeyProblems of them.
	problems []Problem
	// tainted holds every top-level member that is ambiguous: its key is
	// repeated, or a problem was found inside its value. Readers skip them.
	tainted map[string]bool
	// repeated holds the top-level keys that are repeated.
	repeated map[string]bool
}

// keyFrame is one open object or array.
type keyFrame struct {
	object  bool
	wantKey bool            // object: the next token is a key
	key     string          // object: the key last read (of the value read now)
	few     []string        // object: the keys seen, while there are few
	many    map[string]bool // object: the keys seen, once there are many
	index   int             // array: the number of elements begun
}

// fewKeys is how many keys an object's frame holds in a slice before it
// moves them to a map.
const fewKeys = 8

// see records key as seen in f, and reports whether it was seen before.
func (f *keyFrame) see(key string) bool {
	if f.many != nil {
		if f.many[key] {
			return true
		}
		f.many[key] = true
		return false
	}
	if slices.Contains(f.few, key) {
		return true
	}
	if len(f.few) < fewKeys {
		f.few = append(f.few, key)
		return false
	}
	f.many = make(map[string]bool, 2*fewKeys)
	for _, k := range f.few {
		f.many[k] = true
	}
	f.many[key] = true
	f.few = nil
	return false
}

// errTrailing is the error of a document with more than one value.
var errTrailing = errors.New("data after the top-level value")

// checkKeys reads the JSON document data token by token ([json.Decoder.Token])
// and reports every key repeated within one object and every object or
// array nested deeper than depth levels. It is linear in the input, and its
// memory is bounded by depth and the number of keys of one object: it never
// recurses, nesting past depth is counted rather than tracked, and a field
// path is built only for a problem. Paths are relative to the document: its
// top-level members are named by their keys, deeper ones with dots and [i]
// for array elements, and the document itself is root. The error is non-nil
// exactly when data is not one valid JSON value (as [json.Valid] judges
// it); the report then holds what was found before the error.
func checkKeys(data []byte, root string, depth int) (keyReport, error) {
	rep := keyReport{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // no number is out of range: only syntax is judged
	stack := make([]keyFrame, 0, min(depth, maxDepth+1))
	skip := 0 // levels open beyond depth
	done := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !done {
				return rep, io.ErrUnexpectedEOF
			}
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
		if done {
			return rep, errTrailing
		}
		d, isDelim := tok.(json.Delim)
		switch {
		case skip > 0:
			if isDelim && (d == '{' || d == '[') {
				skip++
			} else if isDelim {
				skip--
			}
			done = skip == 0 && len(stack) == 0
		case isDelim && (d == '{' || d == '['):
			if n := len(stack); n > 0 {
				// The parent moves past this value now.
				if p := &stack[n-1]; p.object {
					p.wantKey = true
				} else {
					p.index++
				}
			}
			if len(stack) >= depth {
				rep.add(stack, func() Problem {
					return Problem{Field: pathOf(root, stack, true), Problem: fmt.Sprintf("nests deeper than %d levels", depth)}
				})
				skip = 1
				continue
			}
			stack = append(stack, keyFrame{object: d == '{', wantKey: d == '{'})
		case isDelim: // '}' or ']'
			stack = stack[:len(stack)-1]
			done = len(stack) == 0
		case len(stack) == 0: // a scalar document
			done = true
		default:
			f := &stack[len(stack)-1]
			switch {
			case !f.object:
				f.index++
			case !f.wantKey:
				f.wantKey = true
			default:
				key, _ := tok.(string)
				f.key, f.wantKey = key, false
				if !f.see(key) {
					continue
				}
				if len(stack) == 1 {
					if rep.repeated == nil {
						rep.repeated = map[string]bool{}
					}
					rep.repeated[key] = true
				}
				rep.add(stack, func() Problem {
					return Problem{Field: pathOf(root, stack, false), Problem: "repeats the key " + strconv.Quote(clipTo(key, maxKeyEcho))}
				})
			}
		}
	}
}

// pathOf returns the field path, clipped to maxEcho, of the innermost open
// container or, with child, of the value it is reading now. The root is
// named root; its members by their keys alone, its elements root[i].
func pathOf(root string, stack []keyFrame, child bool) string {
	n := len(stack)
	if child {
		n++
	}
	if n <= 1 {
		return root
	}
	var b strings.Builder
	if !stack[0].object {
		b.WriteString(root)
	}
	for i := 1; i < n && b.Len() <= maxEcho; i++ {
		p := &stack[i-1]
		if !p.object {
			b.WriteString("[" + strconv.Itoa(p.index-1) + "]")
			continue
		}
		seg := pathSegment(p.key)
		if b.Len() > 0 && seg[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return clip(b.String())
}

// add records a problem found with stack open, described by p unless
// there are maxKeyProblems already. The top-level member it lies in (the
// document's key last read) is tainted.
func (r *keyReport) add(stack []keyFrame, p func() Problem) {
	if len(stack) > 0 && stack[0].object {
		if r.tainted == nil {
			r.tainted = map[string]bool{}
		}
		r.tainted[stack[0].key] = true
	}
	if len(r.problems) < maxKeyProblems {
		r.problems = append(r.problems, p())
	}
}

// pathSegment names a key in a field path: as itself when it is a plain
// name (letters, digits, '_' and '-'), else quoted in brackets, so that a
// key holding dots, spaces or control characters reads unambiguously.
func pathSegment(key string) string {
	plain := key != "" && len(key) <= maxKeyEcho
	for i := 0; plain && i < len(key); i++ {
		c := key[i]
		plain = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	if plain {
		return key
	}
	return "[" + strconv.Quote(clipTo(key, maxKeyEcho)) + "]"
}
