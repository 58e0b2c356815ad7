package cluster

import (
	"sort"
	"strings"
)

// Closest returns up to n of names, closest to name first (edit distance, then a shared
// prefix or substring, then alphabetical).
func Closest(name string, names []string, n int) []string {
	type scored struct {
		s    string
		dist int
	}
	var all []scored
	for _, c := range names {
		if c == "" {
			continue
		}
		d := levenshtein(strings.ToLower(name), strings.ToLower(c))
		if strings.Contains(c, name) || strings.Contains(name, c) {
			d -= len(name) / 2
		}
		all = append(all, scored{c, d})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].dist != all[j].dist {
			return all[i].dist < all[j].dist
		}
		return all[i].s < all[j].s
	})
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].s)
	}
	return out
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
