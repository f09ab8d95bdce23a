package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// wayColor is each way's line colour.
var wayColor = map[string]string{"naive": "#d62728", "backoff": "#ff7f0e", "bulk": "#1f77b4"}

// chart draws two panels side by side, both against N on a log axis:
// calls per job and p99 detection (s), log scale, one line per way.
func chart(res map[string]any) []byte {
	const w, h = 920, 400
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	panel(&b, res, "calls_per_job", "ECS calls per job", 60, 40)
	panel(&b, res, "detect_p99_s", "p99 detection (s, simulated)", 520, 40)
	for i, way := range ways {
		x := 300 + i*120
		fmt.Fprintf(&b, `<line x1="%d" y1="380" x2="%d" y2="380" stroke="%s" stroke-width="3"/><text x="%d" y="384">%s</text>`+"\n",
			x, x+24, wayColor[way], x+30, way)
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// panel draws one 360×280 plot with its top left corner at (x0, y0).
func panel(b *strings.Builder, res map[string]any, key, title string, x0, y0 float64) {
	const pw, ph = 360.0, 280.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, n := range sizes {
		for _, way := range ways {
			if v, ok := num(res, n, key, way); ok && v > 0 {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return
	}
	ylo, yhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yhi == ylo {
		yhi++
	}
	xlo, xhi := math.Log10(1000), math.Log10(50000)
	px := func(n float64) float64 { return x0 + (math.Log10(n)-xlo)/(xhi-xlo)*pw }
	py := func(v float64) float64 { return y0 + ph - (math.Log10(v)-ylo)/(yhi-ylo)*ph }
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="14" font-weight="bold">%s</text>`+"\n", x0, y0-12, title)
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", x0, y0, pw, ph)
	for e := ylo; e <= yhi; e++ {
		y := py(math.Pow(10, e))
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			x0, y, x0+pw, y, x0-6, y+4, strconv.FormatFloat(math.Pow(10, e), 'g', -1, 64))
	}
	for _, n := range sizes {
		nv, _ := strconv.ParseFloat(n, 64)
		x := px(nv)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#eee"/><text x="%.1f" y="%.0f" text-anchor="middle">N=%s</text>`+"\n",
			x, y0, x, y0+ph, x, y0+ph+16, n)
	}
	for _, way := range ways {
		var pts []string
		for _, n := range sizes {
			nv, _ := strconv.ParseFloat(n, 64)
			if v, ok := num(res, n, key, way); ok && v > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(nv), py(v)))
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(nv), py(v), wayColor[way])
			}
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), wayColor[way])
	}
}
