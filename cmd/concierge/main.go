// Command concierge runs the Concierge chat server and its tools:
//
//	concierge serve [-addr HOST:PORT] [-data DIR] [-config FILE]
//	concierge catalog import -data DIR [-format F] [-map M] [-prune] FILE...
//	concierge eval retrieval|classify|segment|bandit-sim|offers ...
//	concierge report experiments -data DIR
//	concierge version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// errUsage marks a command-line mistake; main exits with status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "concierge:", err)
		os.Exit(1)
	}
}

const usage = `Concierge: a chat server for context-aware marketing.

Usage:
  concierge serve [-addr HOST:PORT] [-data DIR] [-config FILE]
  concierge catalog import -data DIR [-format F] [-map M] [-prune] [-drafts] FILE...
  concierge eval retrieval -products FILE -queries FILE -judgments FILE
  concierge eval classify -train FILE -test FILE [-text-col C] [-label-col C]
  concierge eval segment -transactions FILE [-k N]
  concierge eval bandit-sim [-rounds N] [-seed S]
  concierge eval offers -logs FILE -items FILE
  concierge report experiments -data DIR [-epsilon E] [-json]
  concierge bench -url ws://127.0.0.1:8080/ws -conns N -turns T [-rate R] [-text T] [-timeout D]
  concierge fake-llm [-addr 127.0.0.1:9090] [-first-token D] [-tokens-per-second R]
  concierge version

Run a command with -h for its flags.
`

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], env, stdout, stderr)
	case "catalog":
		return catalogCommand(ctx, args[1:], env, stdout, stderr)
	case "eval":
		return evalCommand(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCommand(ctx, args[1:], stdout, stderr)
	case "fake-llm":
		return fakeLLMCommand(ctx, args[1:], stdout, stderr)
	case "report":
		return reportCommand(ctx, args[1:], env, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "concierge %s (%s)\n", version(), runtime.Version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "concierge: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}

// version returns the module version, or the VCS revision for a build from
// a work tree.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

// newFlagSet returns a flag set that reports errors to stderr and returns
// them instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
