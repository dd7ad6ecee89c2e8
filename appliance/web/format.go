package web

import (
	"fmt"
	"html/template"
	"strconv"
	"time"
)

// parsePage parses the page's template with the functions it formats values with.
func parsePage() (*template.Template, error) {
	return template.New("page").Funcs(template.FuncMap{
		"bytes":   humanBytes,
		"seconds": humanSeconds,
		"ago":     ago,
		"number":  number,
		"percent": percent,
		"clock":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"okState": func(s string) bool { return s == "running" || s == "connected" || s == "completed" || s == "bound" },
		"usedOf":  func(total, free uint64) uint64 { return total - min(free, total) },
	}).ParseFS(assets, "assets/page.tmpl")
}

// humanBytes writes n in binary units, the number and its unit kept on one line: 512 B,
// 3.4 KiB, 812 MiB.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d\u00a0B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v < 10 {
		return fmt.Sprintf("%.1f\u00a0%ciB", v, "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.0f\u00a0%ciB", v, "KMGTPE"[exp])
}

// humanSeconds writes a duration as a person reads it: 42s, 5m 3s, 3h 12m, 4d 2h.
func humanSeconds(sec int64) string {
	d := time.Duration(sec) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", sec)
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", sec/60, sec%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", sec/3600, sec/60%60)
	}
	return fmt.Sprintf("%dd %dh", sec/86400, sec/3600%24)
}

// ago writes an age in seconds as "4s ago".
func ago(sec float64) string { return humanSeconds(int64(sec)) + " ago" }

// number writes a reading without trailing zeros: 21.5, 1013.25, 3.
func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// percent is part of total in whole percent.
func percent(part, total uint64) uint64 {
	if total == 0 {
		return 0
	}
	return part * 100 / total
}
