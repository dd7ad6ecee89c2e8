package pifw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTCGAccel(t *testing.T) {
	for _, c := range []struct {
		cpus int
		want string
	}{{1, "tcg,thread=single"}, {2, "tcg,thread=single"}, {3, "tcg,thread=single"}, {4, "tcg"}, {64, "tcg"}} {
		if got := tcgAccel(c.cpus); got != c.want {
			t.Errorf("tcgAccel(%d) = %q, want %q", c.cpus, got, c.want)
		}
	}
}

func TestFitCard(t *testing.T) {
	for _, c := range []struct {
		name        string
		image, card int64
		want        int64
		wantErr     string
	}{
		{name: "rounded up", image: 3 << 20, want: 4 << 20},
		{name: "already a power of two", image: 4 << 20, want: 4 << 20},
		{name: "a larger card", image: 3 << 20, card: 16 << 20, want: 16 << 20},
		{name: "not a power of two", image: 3 << 20, card: 12 << 20, wantErr: "must be a power of two"},
		{name: "smaller than the image", image: 8 << 20, card: 4 << 20, wantErr: "smaller than the image"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "card.img")
			if err := os.WriteFile(img, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(img, c.image); err != nil {
				t.Fatal(err)
			}
			got, err := FitCard(img, c.card)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("FitCard = %d, %v; want an error %q", got, err, c.wantErr)
				}
				return
			}
			st, _ := os.Stat(img)
			if err != nil || got != c.want || st.Size() != c.want {
				t.Errorf("FitCard = %d, %v, file %d bytes; want %d", got, err, st.Size(), c.want)
			}
		})
	}
}
