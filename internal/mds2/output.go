package mds2

import (
	"encoding/csv"
	"encoding/json"
	"html/template"
	"io"
	"strings"
)

// WriteJSON writes the form as JSON.
func (f *Form) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// WriteCSV writes one row per question: id, section, parent, question,
// answer, note, source, evidence (kind:ref=value; …).
func (f *Form) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "section", "parent", "question", "answer", "note", "source", "evidence"})
	for _, a := range f.Answers {
		var ev []string
		for _, e := range a.Evidence {
			ev = append(ev, e.Kind+":"+e.Ref+"="+e.Value)
		}
		cw.Write([]string{a.ID, a.Section, a.Parent, csvSafe(a.Text), a.Value, csvSafe(a.Note), a.Source, csvSafe(strings.Join(ev, "; "))})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CSV
// injection): a cell starting with = + - @ gets a leading apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var page = template.Must(template.New("mds2").Funcs(template.FuncMap{
	"section": func(f *Form, id string) []Answer {
		var out []Answer
		for _, a := range f.Answers {
			if a.Section == id {
				out = append(out, a)
			}
		}
		return out
	},
	"depth": func(id string) int { return strings.Count(id, ".") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>MDS2 {{.DocumentID}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111;max-width:72em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#eee}.id{white-space:nowrap;font-family:monospace}.person{background:#fff4d6}
.ev{font-size:.85em;color:#444}.v{font-weight:600;white-space:nowrap}.d1{padding-left:1.5em}.d2{padding-left:3em}
</style></head><body>
<h1>Manufacturer Disclosure Statement for Medical Device Security (MDS2)</h1>
<p>Form: {{.Version}}. Document {{.DocumentID}}, generated {{.Generated}} by medguard from the configuration ({{.ConfigSource}}){{if .SBOM}} and the SBOM {{.SBOM}}{{end}}.
{{.Answered}} answers come from the configuration and the build, with their evidence; {{.ForPerson}} are marked for a person.
Questions are worded by medguard; the ids are those of the form.</p>
{{range .Sections}}{{$s := .}}
<h2 id="{{.ID}}">{{.ID}} — {{.Title}}</h2>
<table><tr><th>id</th><th>question</th><th>answer</th><th>note and evidence</th></tr>
{{range section $ .ID}}<tr{{if eq .Source "person"}} class="person"{{end}}>
<td class="id">{{.ID}}</td><td class="d{{depth .ID}}">{{.Text}}</td><td class="v">{{.Value}}</td>
<td>{{.Note}}{{range .Evidence}}<div class="ev">{{.Kind}}: {{.Ref}} = {{.Value}}</div>{{end}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))

// WriteHTML writes the form as one self-contained HTML page (no scripts,
// no outside resources).
func (f *Form) WriteHTML(w io.Writer) error { return page.Execute(w, f) }
