package report

import (
	"bytes"
	"encoding/base64"
	"html"
	"path"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// toHTML renders the report's markdown as one self-contained HTML page: the
// charts are embedded as data: URLs, so the file can be mailed, opened
// from a USB stick or printed without its charts/ folder. The style is
// sized for a projector (large type, high contrast), wraps long cells so
// that no table is wider than a 1280-pixel window, and prints without
// splitting rows or charts across pages.
func toHTML(md []byte, cs []Chart) ([]byte, error) {
	var body bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithParserOptions(parser.WithAutoHeadingID()))
	if err := gm.Convert(md, &body); err != nil {
		return nil, err
	}
	svg := map[string][]byte{}
	for _, c := range cs {
		svg[path.Join(ChartsDir, c.Name)] = c.SVG
	}
	out := imgRE.ReplaceAllFunc(body.Bytes(), func(m []byte) []byte {
		src := string(imgRE.FindSubmatch(m)[1])
		b, ok := svg[src]
		if !ok {
			return m
		}
		return bytes.Replace(m, []byte(`src="`+src+`"`), []byte(`src="data:image/svg+xml;base64,`+base64.StdEncoding.EncodeToString(b)+`"`), 1)
	})
	title := "Server models under load"
	if m := h1RE.FindSubmatch(out); m != nil {
		title = html.UnescapeString(string(tagRE.ReplaceAll(m[1], nil)))
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + html.EscapeString(strings.TrimSpace(title)) + "</title>\n<style>\n" + css + "</style>\n</head>\n<body>\n<main>\n")
	b.Write(out)
	b.WriteString("</main>\n</body>\n</html>\n")
	return b.Bytes(), nil
}

var (
	imgRE = regexp.MustCompile(`<img src="([^"]+)"[^>]*>`)
	h1RE  = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	tagRE = regexp.MustCompile(`<[^>]+>`)
)

// css: one column of large type; tables take the page's width and wrap
// their cells; charts scale to the column; print drops the colours that
// waste toner and keeps rows and charts whole.
const css = `:root { color-scheme: light; }
html { font-size: 18px; }
body { margin: 0; background: #fff; color: #111; font-family: "Liberation Sans", Arial, Helvetica, sans-serif; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 2rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.55rem; margin-top: 2.2rem; border-bottom: 3px solid #333; padding-bottom: 0.2rem; }
h3 { font-size: 1.2rem; margin-top: 1.6rem; }
a { color: #0645ad; }
code { font-family: "Liberation Mono", Consolas, monospace; font-size: 0.9em; background: #f2f2f2; padding: 0 0.2em; white-space: normal; overflow-wrap: anywhere; }
pre { background: #f2f2f2; padding: 0.8rem; overflow-x: auto; }
pre code { white-space: pre; }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; font-size: 0.78rem; table-layout: auto; }
th, td { border: 1px solid #999; padding: 0.3rem 0.4rem; vertical-align: top; text-align: left; overflow-wrap: break-word; word-break: normal; hyphens: auto; }
th { background: #e6e6e6; }
tr:nth-child(even) td { background: #fafafa; }
img { display: block; max-width: 100%; height: auto; margin: 1rem auto 0.3rem; }
p > em:only-child { display: block; font-size: 0.85rem; color: #333; }
@media print {
  html { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { page-break-before: auto; page-break-after: avoid; }
  tr, img, pre { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  tr:nth-child(even) td, th { background: none; }
}
`
