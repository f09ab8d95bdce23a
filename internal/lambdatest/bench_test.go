package lambdatest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/benchout"
	"github.com/coldmove/coldmove/internal/lambdatest"
	"github.com/coldmove/coldmove/internal/stacktest"
)

// coldStartRuns is how many cold starts are measured per function.
const coldStartRuns = 5

// coldStartMeasures says what a cold start figure is.
const coldStartMeasures = "from the first invoke sent to a listening Runtime Interface Emulator, " +
	"which only then starts the bootstrap process, to that invoke's response received: " +
	"the emulator's dispatch, process start, function init (configuration, NATS connect, stream and ledger checks, ECS clients), " +
	"the first invoke served and its response's way back, on loopback NATS and an ECS simulator without added latency, " +
	"not counting the emulator's own start"

// lambdaFragment is lambda.json (package benchout).
type lambdaFragment struct {
	BootstrapMB map[string]float64   `json:"bootstrap_mb"`
	ColdStartMS map[string]coldStart `json:"cold_start_ms"`
	Measures    string               `json:"cold_start_measures"`
	// FloorMS is the cold start of a function that does nothing (package
	// testdata/echo), measured the same way: what the emulator, process
	// start and the Go runtime cost on the machine that ran the benchmark.
	FloorMS *coldStart `json:"cold_start_floor_ms,omitempty"`
}

type coldStart struct {
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

// function is a function to measure: its package, and how to make a
// valid first invoke on the stack and check its result.
type function struct {
	name    string
	pkg     string
	payload func(b *testing.B, s *stacktest.Stack) []byte
	check   func(b *testing.B, result []byte)
}

var functions = []function{
	{
		name: "migrate", pkg: "github.com/coldmove/coldmove/functions/migrate",
		// A request for a server of its own, which must end accepted.
		payload: func(b *testing.B, s *stacktest.Stack) []byte {
			host := s.Sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 64, MemoryMB: 65536})
			return stacktest.Request(s.Sim.AddServer(ecstest.ServerSpec{}), events.HostTarget(host))
		},
		check: func(b *testing.B, result []byte) {
			var o struct {
				Status string `json:"status"`
				JobID  string `json:"job_id"`
			}
			if err := json.Unmarshal(result, &o); err != nil || o.Status != "accepted" || o.JobID == "" {
				b.Fatalf("first invoke answered %s (%v), want accepted", result, err)
			}
		},
	},
	{
		name: "poll", pkg: "github.com/coldmove/coldmove/functions/poll",
		// The EventBridge schedule's event: a tick over an empty ledger.
		payload: func(b *testing.B, _ *stacktest.Stack) []byte {
			p, err := os.ReadFile("../../functions/poll/testdata/scheduled-event.json")
			if err != nil {
				b.Fatal(err)
			}
			return p
		},
		check: func(b *testing.B, result []byte) {
			var s struct {
				Errors       *int   `json:"errors"`
				ErrorMessage string `json:"errorMessage"`
			}
			if err := json.Unmarshal(result, &s); err != nil || s.ErrorMessage != "" || s.Errors == nil || *s.Errors != 0 {
				b.Fatalf("first invoke answered %s (%v), want a summary without errors", result, err)
			}
		},
	},
}

// BenchmarkLambda builds each function's bootstrap as the Makefile does
// for deployment (static, lambda.norpc, trimmed and stripped) for
// linux/amd64 and linux/arm64 and reports its size in MB (10^6 bytes);
// then, for the host's architecture, it measures five cold starts under
// the Runtime Interface Emulator (see coldStartMeasures) and reports their
// median and maximum. The floor sub-benchmark measures a function that
// does nothing (testdata/echo, built the same way) for comparison.
//
// Each run starts a new emulator and waits until it listens; the emulator
// starts the bootstrap lazily, on the first invoke (its InvokeHandler
// calls InitHandler when no init was done), so the clock runs from that
// invoke being sent. The stack (embedded NATS, simulator) is shared by a
// function's runs and its stream and ledger bucket exist before the first,
// as in a deployment. The binary was just written, so it is in the page
// cache; on Lambda a cold start may also wait for the code to be fetched.
//
// With COLDMOVE_BENCH_OUT set the figures are written to lambda.json.
func BenchmarkLambda(b *testing.B) {
	out := lambdaFragment{BootstrapMB: map[string]float64{}, ColdStartMS: map[string]coldStart{}, Measures: coldStartMeasures}
	for _, fn := range functions {
		b.Run(fn.name, func(b *testing.B) {
			dir := b.TempDir()
			var host string
			for _, arch := range []string{"amd64", "arm64"} {
				bin := buildRelease(b, fn.pkg, arch, filepath.Join(dir, arch))
				st, err := os.Stat(bin)
				if err != nil {
					b.Fatal(err)
				}
				mb := round2(float64(st.Size()) / 1e6)
				out.BootstrapMB[fn.name+"/linux-"+arch] = mb
				b.ReportMetric(mb, arch+"-MB")
				if arch == runtime.GOARCH {
					host = bin
				}
			}
			if host == "" {
				b.Fatalf("no bootstrap built for the host's architecture %s", runtime.GOARCH)
			}
			cs := measure(b, fn.name+" ready", func(b *testing.B) ([]string, func(int) []byte) {
				s := stacktest.New(b)
				s.Ledger("bench") // the bucket exists, as the stream does
				return stackEnv(s), func(int) []byte { return fn.payload(b, s) }
			}, fn.check, host)
			out.ColdStartMS[fn.name] = cs
		})
	}
	b.Run("floor", func(b *testing.B) {
		bin := buildRelease(b, "./testdata/echo", runtime.GOARCH, b.TempDir())
		cs := measure(b, "", func(*testing.B) ([]string, func(int) []byte) {
			return nil, func(i int) []byte { return []byte(fmt.Sprintf(`{"run":%d}`, i)) }
		}, func(b *testing.B, result []byte) {
			if !bytes.Contains(result, []byte(`"payload":{"run":`)) {
				b.Fatalf("first invoke answered %s, want the payload echoed", result)
			}
		}, bin)
		out.FloorMS = &cs
	})
	benchout.Write(b, "lambda", out)
}

// measure runs the benchmark loop over cold starts of bootstrap and
// reports their median and maximum. setup starts what the function needs
// and returns its environment and the payload of each run's first invoke;
// check checks that invoke's result. When ready is not empty, each run
// also logs how long after the invoke was sent the function logged it.
func measure(b *testing.B, ready string, setup func(*testing.B) ([]string, func(int) []byte),
	check func(*testing.B, []byte), bootstrap string) coldStart {
	var runs []time.Duration
	for b.Loop() {
		b.StopTimer()
		env, payload := setup(b)
		for i := range coldStartRuns {
			p := payload(i)
			emu := lambdatest.Start(b, bootstrap, 30*time.Second, env...)
			b.StartTimer()
			t0 := time.Now()
			result, err := emu.Invoke(b.Context(), p)
			d := time.Since(t0)
			b.StopTimer()
			if err != nil {
				b.Fatalf("run %d: %v\n%s", i, err, emu.Output())
			}
			check(b, result)
			emu.Stop()
			runs = append(runs, d)
			if at, ok := loggedAt(emu.Output(), ready); ok {
				b.Logf("run %d: %.1f ms (%q logged after %.1f ms)", i, ms(d), ready, ms(at.Sub(t0)))
			} else {
				b.Logf("run %d: %.1f ms", i, ms(d))
			}
		}
		b.StartTimer()
	}
	cs := coldStart{Median: ms(median(runs)), Max: ms(slices.Max(runs)), Runs: len(runs)}
	b.ReportMetric(cs.Median, "cold-median-ms")
	b.ReportMetric(cs.Max, "cold-max-ms")
	return cs
}

// stackEnv is the environment the functions read to use the stack, as
// the functions' own emulator tests set it.
func stackEnv(s *stacktest.Stack) []string {
	cfg := s.ECSConfig()
	env := []string{
		"HUAWEICLOUD_SDK_AK=" + cfg.Credentials.AccessKey.Reveal(), "HUAWEICLOUD_SDK_SK=" + cfg.Credentials.SecretKey.Reveal(),
		"HUAWEICLOUD_SDK_PROJECT_ID=" + cfg.ProjectID, "COLDMOVE_REGION=" + cfg.Region,
		"COLDMOVE_ECS_ENDPOINT=" + cfg.Endpoint, "NATS_URL=" + s.NATS.ClientURL(),
	}
	if t := cfg.Credentials.SecurityToken; t != "" {
		env = append(env, "HUAWEICLOUD_SDK_SECURITY_TOKEN="+t.Reveal())
	}
	return env
}

// buildRelease builds pkg for linux/arch into dir as the Makefile's
// build-MigrateFunction and build-PollFunction targets do, and returns
// the binary's path. It adds -buildvcs=false (as [lambdatest.BuildDir]
// does), which leaves out a few hundred bytes of VCS metadata.
func buildRelease(tb testing.TB, pkg, arch, dir string) string {
	tb.Helper()
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("go build %s for linux/%s: %v\n%s", pkg, arch, err, stderr.String())
	}
	return out
}

// loggedAt finds the time the function logged message.
func loggedAt(output, message string) (time.Time, bool) {
	if message == "" {
		return time.Time{}, false
	}
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Timestamp time.Time `json:"timestamp"`
			Message   string    `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == message {
			return line.Timestamp, true
		}
	}
	return time.Time{}, false
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ms is d in milliseconds, rounded to 0.01 ms.
func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
