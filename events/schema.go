package events

import "embed"

// Schemas holds the JSON Schema (draft 2020-12) of every payload, one file
// per event type named after it (requested.json, accepted.json, …) plus
// defs.json with the shared definitions. Each file's $id is its
// dataschema URI ([DataSchema]); the relative references between them
// resolve against that base.
//
//go:embed schemas/*.json
var Schemas embed.FS

// SchemaFile returns the file name in [Schemas] of an event type's schema,
// or "" for a type that is not coldmove's.
func SchemaFile(eventType string) string {
	k, ok := kinds[eventType]
	if !ok {
		return ""
	}
	return "schemas/" + k + ".json"
}
