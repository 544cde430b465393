// Command ferretdb is Ledgerscope's launcher for an embedded FerretDB v1 server.
//
// Why a launcher: `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`
// builds a binary whose main module is FerretDB itself, so its build/version
// package insists on a generated version.txt that is absent from the module
// zip and panics at start. The embeddable package
// (github.com/FerretDB/FerretDB/ferretdb) skips that check whenever the main
// module is not FerretDB, which is the case here, so no build tag or ldflags
// are needed.
//
// Usage:
//
//	ferretdb --listen-addr 127.0.0.1:27018 --handler sqlite --sqlite-url file:/path/to/dir/
//	ferretdb ... --listen-tls 127.0.0.1:27019 --listen-tls-cert-file server.crt \
//	    --listen-tls-key-file server.key [--listen-tls-ca-file ca.crt]
//	ferretdb --listen-addr 127.0.0.1:27018 --handler postgresql \
//	    --postgresql-url postgres://user:pass@127.0.0.1:55432/ferretdb
//
// The process runs until SIGTERM or SIGINT: then it stops listening at once,
// lets open client connections finish for at most --shutdown-timeout (FerretDB
// itself allows them 3 seconds), closes the backend and exits with status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb launcher: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	listenTLS := flag.String("listen-tls", "", "TLS address to listen on as well (empty: none)")
	tlsCertFile := flag.String("listen-tls-cert-file", "", "server certificate (PEM) for --listen-tls")
	tlsKeyFile := flag.String("listen-tls-key-file", "", "server private key (PEM) for --listen-tls")
	tlsCAFile := flag.String("listen-tls-ca-file", "", "CA (PEM) that client certificates must be signed by; set: clients must present one")
	handler := flag.String("handler", "sqlite", "backend handler: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI (a directory, must end with '/') for the sqlite handler")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL for the postgresql handler")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn or error")
	shutdownTimeout := flag.Duration("shutdown-timeout", 3*time.Second,
		"after SIGTERM/SIGINT, how long to let open client connections finish before exiting anyway")
	flag.Parse()

	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bad --log-level %q: %w", *logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP:         *listenAddr,
			TLS:         *listenTLS,
			TLSCertFile: *tlsCertFile,
			TLSKeyFile:  *tlsKeyFile,
			TLSCAFile:   *tlsCAFile,
		},
		Logger:  logger,
		Handler: *handler,
	}

	switch *handler {
	case "sqlite":
		if err := prepareSQLiteDir(*sqliteURL); err != nil {
			return err
		}
		cfg.SQLiteURL = *sqliteURL
	case "postgresql":
		if *postgresqlURL == "" {
			return errors.New("--postgresql-url is required with --handler postgresql")
		}
		cfg.PostgreSQLURL = *postgresqlURL
	default:
		return fmt.Errorf("bad --handler %q: want sqlite or postgresql", *handler)
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	logger.Info("ferretdb launcher started",
		"listen_addr", *listenAddr, "handler", *handler, "pid", os.Getpid())

	select {
	case err := <-done:
		// Run only returns early if the listener failed.
		if err != nil {
			return err
		}
		return errors.New("server stopped unexpectedly")
	case sig := <-sigs:
		logger.Info("stopping", "signal", sig.String())
	}

	// Cancelling closes the listening socket at once (new connections are
	// refused from here on). FerretDB then gives open client connections up to
	// 3 seconds to go away before it closes them and the backend. Clients with
	// pooled connections (every driver) never go away by themselves, so cap the
	// wait: a second signal or --shutdown-timeout ends the process regardless.
	// That is safe for both backends: SQLite and PostgreSQL are crash-safe and
	// every acknowledged write is already committed.
	cancel()

	timer := time.NewTimer(*shutdownTimeout)
	defer timer.Stop()

	select {
	case err := <-done:
		if err != nil {
			return err
		}
		logger.Info("ferretdb launcher stopped")
	case <-timer.C:
		logger.Warn("shutdown timeout reached; exiting with client connections still open",
			"timeout", shutdownTimeout.String())
	case sig := <-sigs:
		logger.Warn("second signal; exiting with client connections still open", "signal", sig.String())
	}

	return nil
}

// prepareSQLiteDir creates the directory named by a `file:DIR/` SQLite URI,
// because FerretDB refuses to start when it does not exist.
func prepareSQLiteDir(u string) error {
	if !strings.HasPrefix(u, "file:") {
		return fmt.Errorf("bad --sqlite-url %q: want file:DIR/", u)
	}
	dir := strings.TrimPrefix(u, "file:")
	if i := strings.IndexByte(dir, '?'); i >= 0 {
		dir = dir[:i]
	}
	if !strings.HasSuffix(dir, "/") {
		return fmt.Errorf("bad --sqlite-url %q: the directory must end with '/'", u)
	}
	if dir == "" || dir == "/" {
		return nil
	}
	return os.MkdirAll(filepath.Clean(dir), 0o755)
}
