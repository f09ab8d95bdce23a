package config

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Usage writes envconfig's table of the variables of s — name, type,
// default, whether required, and description — in their order, with the
// defaults the fields hold now (call it before [Load]).
func Usage(w io.Writer, s Spec) error {
	fields := make([]reflect.StructField, len(s.Vars))
	for i, v := range s.Vars {
		tag := fmt.Sprintf("envconfig:%q desc:%q", v.Name, v.Desc)
		if d := defaultText(v); d != "" {
			tag += fmt.Sprintf(" default:%q", d)
		}
		if v.Required {
			tag += ` required:"true"`
		}
		fields[i] = reflect.StructField{Name: fmt.Sprintf("V%d", i), Type: reflect.TypeOf(v.Value).Elem(), Tag: reflect.StructTag(tag)}
	}
	spec := reflect.New(reflect.StructOf(fields)).Interface()
	tw := tabwriter.NewWriter(w, 1, 0, 4, ' ', 0)
	if err := envconfig.Usagef("", spec, tw, envconfig.DefaultTableFormat); err != nil {
		return fmt.Errorf("config: usage: %w", err)
	}
	return tw.Flush()
}

// defaultText renders a field's current value as envconfig would read it
// back: durations as 30s, lists separated by commas; nothing for a secret.
func defaultText(v Var) string {
	if v.secret() {
		return ""
	}
	val := reflect.ValueOf(v.Value).Elem()
	if val.IsZero() {
		return ""
	}
	if ds, ok := val.Interface().([]time.Duration); ok {
		parts := make([]string, len(ds))
		for i, d := range ds {
			parts[i] = d.String()
		}
		return strings.Join(parts, ",")
	}
	if l, ok := val.Interface().(slog.Level); ok {
		return strings.ToLower(l.String())
	}
	return fmt.Sprint(val.Interface())
}
