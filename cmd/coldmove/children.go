package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is a function binary the demo runs long-lived, its log in a file.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan error
}

// findFunctions returns the paths of the migrate and poll binaries: in
// dir when it holds them, else built with `go build` into build from the
// source tree the command runs in (as `go run ./cmd/coldmove demo` does).
func findFunctions(ctx context.Context, dir, build string) (migrate, poll string, err error) {
	migrate, poll = filepath.Join(dir, "migrate"), filepath.Join(dir, "poll")
	if isFile(migrate) && isFile(poll) {
		return migrate, poll, nil
	}
	if _, err := exec.LookPath("go"); err != nil || !isFile(filepath.Join("functions", "migrate", "main.go")) {
		return "", "", fmt.Errorf("the function binaries are not in %s; build them with 'make demo', or 'go build -o %s ./functions/migrate ./functions/poll'", dir, dir)
	}
	out, err := exec.CommandContext(ctx, "go", "build", "-o", build+string(filepath.Separator), "./functions/migrate", "./functions/poll").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("build the functions: %w\n%s", err, out)
	}
	return filepath.Join(build, "migrate"), filepath.Join(build, "poll"), nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// startChild runs a function binary with env (and PATH), its output to
// logDir/<name>.log.
func startChild(name, path, logDir string, env []string) (*child, error) {
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() {
		c.done <- cmd.Wait()
		f.Close()
	}()
	return c, nil
}

// exited reports whether the child has stopped, with its error.
func (c *child) exited() (error, bool) {
	select {
	case err := <-c.done:
		c.done <- err
		return err, true
	default:
		return nil, false
	}
}

// stop sends SIGTERM and waits for the child to drain and exit, killing
// it after grace.
func (c *child) stop(grace time.Duration) {
	if _, gone := c.exited(); gone {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// tail returns the last lines of the child's log, to explain a failure.
func (c *child) tail(n int) string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errExited is a child that stopped while the demo needed it.
var errExited = errors.New("exited")
