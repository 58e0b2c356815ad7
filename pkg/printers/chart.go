package printers

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

// glyphs draw a chart: one character per span state and mark.
type glyphs struct {
	span                  map[diagnose.SpanState]rune
	restart, end, warn    rune
	idle, axis, tick, bar rune
	more                  string // where a label or note is cut
}

// plain are the characters any terminal and any pipe shows.
var plain = glyphs{
	span:    map[diagnose.SpanState]rune{diagnose.SpanPending: '.', diagnose.SpanInit: '-', diagnose.SpanRunning: '=', diagnose.SpanReady: '#', diagnose.SpanBackOff: '~'},
	restart: 'r', end: 'x', warn: '!', idle: ' ', axis: '-', tick: '+', bar: '|', more: "~",
}

// drawn are box-drawing and block characters, for a terminal that shows them.
var drawn = glyphs{
	span:    map[diagnose.SpanState]rune{diagnose.SpanPending: '·', diagnose.SpanInit: '░', diagnose.SpanRunning: '▒', diagnose.SpanReady: '█', diagnose.SpanBackOff: '┄'},
	restart: '↻', end: '✗', warn: '⚠', idle: ' ', axis: '─', tick: '┼', bar: '│', more: "…",
}

// ChartOptions say how wide to draw and with which characters.
type ChartOptions struct {
	Width int  // the terminal's columns (at least 60)
	Fancy bool // box-drawing and block characters instead of plain ones
}

// Chart draws a deployment's lanes fitted to the width: a time axis, one row per pod and per
// container (its label, its spans, its marks, what it ends in), and a legend.
func Chart(out io.Writer, c diagnose.Chart, o ChartOptions) error {
	c = term.Sanitized(c)
	g := plain
	if o.Fancy {
		g = drawn
	}
	width := max(o.Width, 60)
	labels := make([]string, len(c.Lanes))
	labelW := 10
	for i, l := range c.Lanes {
		labels[i] = laneLabel(l)
		labelW = max(labelW, utf8.RuneCountInString(labels[i]))
	}
	labelW = min(labelW, width/3)
	noteW := 8
	for _, l := range c.Lanes {
		noteW = max(noteW, utf8.RuneCountInString(l.Note))
	}
	noteW = min(noteW, 30)
	barW := max(width-labelW-noteW-4, 20)
	col := func(t time.Time) int {
		span := c.To.Sub(c.From)
		x := int(float64(t.Sub(c.From)) / float64(span) * float64(barW))
		return min(max(x, 0), barW-1)
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "%s (namespace %s), %s to %s UTC\n", c.Name, c.Namespace, c.From.UTC().Format("2006-01-02 15:04:05"), c.To.UTC().Format("15:04:05"))
	axisRow(b, c, g, labelW, barW)
	for i, l := range c.Lanes {
		row := []rune(strings.Repeat(string(g.idle), barW))
		for _, s := range l.Spans {
			for x := col(s.From); x <= col(s.To.Add(-time.Nanosecond)) && x < barW; x++ {
				row[x] = g.span[s.State]
			}
		}
		for _, m := range l.Marks {
			row[col(m.At)] = map[diagnose.MarkKind]rune{diagnose.MarkRestart: g.restart, diagnose.MarkEnd: g.end, diagnose.MarkWarning: g.warn}[m.Kind]
		}
		fmt.Fprintf(b, "%s %c%s%c %s\n", pad(fit(labels[i], labelW, g.more), labelW), g.bar, string(row), g.bar, fit(l.Note, noteW, g.more))
	}
	fmt.Fprintf(b, "%c pending  %c init  %c running  %c ready  %c back-off  %c ended  %c restart  %c warning\n",
		g.span[diagnose.SpanPending], g.span[diagnose.SpanInit], g.span[diagnose.SpanRunning],
		g.span[diagnose.SpanReady], g.span[diagnose.SpanBackOff], g.end, g.restart, g.warn)
	_, err := io.WriteString(out, b.String())
	return err
}

// axisRow is the time axis: ticks at a fifth of the width each, their times below.
func axisRow(b *strings.Builder, c diagnose.Chart, g glyphs, labelW, barW int) {
	axis := []rune(strings.Repeat(string(g.axis), barW))
	times := []rune(strings.Repeat(" ", barW+8))
	taken := make([]bool, barW+8)
	// The ends first, then the middle, then the quarters, each where there is room (the
	// axis's ticks still show where a time left out is).
	for _, i := range []int{0, 4, 2, 1, 3} {
		x := min(i*barW/4, barW-1)
		axis[x] = g.tick
		t := c.From.Add(time.Duration(float64(c.To.Sub(c.From)) * float64(x) / float64(barW))).UTC().Format("15:04:05")
		start := max(x-len(t)/2, 0)
		switch i {
		case 0:
			start = 0
		case 4:
			start = x - len(t) + 1
		}
		free := true
		for j := max(start-1, 0); j < min(start+len(t)+1, len(taken)); j++ {
			free = free && !taken[j]
		}
		if !free {
			continue
		}
		copy(times[start:], []rune(t))
		for j := start; j < start+len(t); j++ {
			taken[j] = true
		}
	}
	fmt.Fprintf(b, "%s %c%s%c\n", strings.Repeat(" ", labelW), g.bar, string(axis), g.bar)
	fmt.Fprintf(b, "%s  %s\n", strings.Repeat(" ", labelW), strings.TrimRight(string(times), " "))
}

// laneLabel is a pod's component and the end of its name (what tells its pods apart; status
// has the whole name), or "  container" under it (init containers marked).
func laneLabel(l diagnose.Lane) string {
	switch {
	case l.Container == "":
		i := strings.LastIndexByte(l.Pod, '-')
		return "pod " + orDash(l.Component) + " " + l.Pod[i+1:]
	case l.Init:
		return "  " + l.Container + " (init)"
	}
	return "  " + l.Container
}

// fit shortens s to w characters, keeping its end (a pod's random suffix tells pods apart),
// more in front where it was cut.
func fit(s string, w int, more string) string {
	r := []rune(s)
	if len(r) <= w {
		return s
	}
	m := []rune(more)
	if w <= len(m) {
		return string(r[:w])
	}
	return more + string(r[len(r)-w+len(m):])
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(w-utf8.RuneCountInString(s), 0))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
