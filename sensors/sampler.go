package sensors

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/pigw/pigw/internal/wait"
)

// Sample is one reading of every quantity of a sensor, and when it was taken.
type Sample struct {
	Time     time.Time
	Readings []Reading
}

// Publisher receives what the sampler measures: the CoAP resources, in the appliance.
type Publisher interface {
	// Publish gets a sample that differs enough from the last one published.
	Publish(name string, s Sample)
	// Fail reports that the sensor cannot be read now; lastGood is the time of the last good
	// sample (zero when there was none).
	Fail(name string, err error, lastGood time.Time)
}

// Spec is one configured sensor.
type Spec struct {
	Name      string
	Kind      string
	Params    Params
	Interval  time.Duration
	Threshold float64 // publish only when a value moved at least this much; 0: any change
}

// Sampler reads every sensor at its interval; it is a subsystem of the appliance.
type Sampler struct {
	specs []Spec
	pub   Publisher
	log   *slog.Logger
	// ReopenAfter consecutive failed reads, the device is opened again (it may have been
	// unplugged and plugged in); MaxBackoff bounds the wait between attempts to open.
	ReopenAfter int
	MaxBackoff  time.Duration
}

// NewSampler returns the sampler of specs.
func NewSampler(specs []Spec, pub Publisher, log *slog.Logger) *Sampler {
	return &Sampler{specs: specs, pub: pub, log: log, ReopenAfter: 3, MaxBackoff: time.Minute}
}

// Name is the subsystem's name.
func (s *Sampler) Name() string { return "sensors" }

// Run samples every sensor until ctx ends.
func (s *Sampler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, sp := range s.specs {
		wg.Go(func() { s.sample(ctx, sp) })
	}
	wg.Wait()
	return nil
}

// sample keeps one sensor open and read.
func (s *Sampler) sample(ctx context.Context, sp Spec) {
	var last Sample
	var lastGood time.Time
	l := sensorLog{log: s.log.With("sensor", sp.Name)}
	backoff := min(sp.Interval, time.Second)
	for ctx.Err() == nil {
		sensor, err := s.open(sp)
		if err != nil {
			s.pub.Fail(sp.Name, fmt.Errorf("not present: %w", err), lastGood)
			l.failed("sensor not present; retrying", err, "kind", sp.Kind, "in", backoff)
			if !wait.Sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, s.MaxBackoff)
			continue
		}
		backoff = min(sp.Interval, time.Second)
		l.opened(sp.Kind)
		failures := 0
		for failures < s.ReopenAfter {
			rs, err := sensor.Read(ctx)
			now := time.Now()
			if sp.Params.Now != nil {
				now = sp.Params.Now()
			}
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				failures++
				s.pub.Fail(sp.Name, err, lastGood)
				l.failed("sensor read failed", err, "failures", failures)
			default:
				failures, lastGood = 0, now
				l.ok()
				cur := Sample{Time: now, Readings: rs}
				if last.Readings == nil || moved(last.Readings, rs, sp.Threshold) {
					s.pub.Publish(sp.Name, cur)
					last = cur
				}
			}
			if !wait.Sleep(ctx, sp.Interval) {
				return
			}
		}
		l.log.Debug("sensor keeps failing; opening it again")
	}
}

// sensorLog logs what happens to one sensor once, not at every interval: the first error,
// each different one after it, and the recovery. Repeats go to the debug level, so a sensor
// that is unplugged for a week does not fill the log ring.
type sensorLog struct {
	log     *slog.Logger
	ready   bool   // opened at least once
	failing string // the last error logged; "" while the sensor works
}

func (l *sensorLog) failed(msg string, err error, args ...any) {
	level := slog.LevelWarn
	if err.Error() == l.failing {
		level = slog.LevelDebug
	}
	l.failing = err.Error()
	l.log.Log(context.Background(), level, msg, append(args, "err", err)...)
}

func (l *sensorLog) opened(kind string) {
	if !l.ready {
		l.ready = true
		l.log.Info("sensor opened", "kind", kind)
	}
}

func (l *sensorLog) ok() {
	if l.failing != "" {
		l.log.Info("sensor recovered", "after", l.failing)
		l.failing = ""
	}
}

func (s *Sampler) open(sp Spec) (Sensor, error) {
	d, err := Lookup(sp.Kind)
	if err != nil {
		return nil, err
	}
	return d.Open(sp.Params)
}

// moved reports whether any value changed by at least threshold (any change when 0).
func moved(prev, cur []Reading, threshold float64) bool {
	if len(prev) != len(cur) {
		return true
	}
	for i := range cur {
		d := math.Abs(cur[i].Value - prev[i].Value)
		if (threshold == 0 && d > 0) || (threshold > 0 && d >= threshold) {
			return true
		}
	}
	return false
}
