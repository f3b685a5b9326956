// Package durable writes files that survive a crash: a whole file
// replaced atomically (WriteFile, WriteFileFrom), a directory's entries made durable
// (SyncDir), and an append-only log of JSON lines or of records of the
// caller's framing whose concurrent appends share fsyncs (Log). Group is the
// group commit they share: one fsync for every caller that wrote before it
// began. Lock is a lock on a file that several processes (and goroutines)
// take in turn.
package durable

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// WriteFile replaces path with data atomically and durably: a temporary
// file in the same directory, written and fsynced, renamed into place, and
// the directory fsynced. A crash leaves the old file or the new one, never
// a mix.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := writeTemp(path, data, perm); err != nil {
		return err
	}
	return SyncDir(dir)
}

// WriteFileFrom is WriteFile with the content written by write, so that a
// large file need not be held in memory whole.
func WriteFileFrom(path string, perm os.FileMode, write func(io.Writer) error) error {
	if err := writeTempFrom(path, perm, write); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// writeTemp is WriteFile without the fsync of the directory.
func writeTemp(path string, data []byte, perm os.FileMode) error {
	return writeTempFrom(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func writeTempFrom(path string, perm os.FileMode, write func(io.Writer) error) error {
	// A name of its own (concurrent writers of one path each have theirs),
	// created with perm (and the umask), no chmod needed.
	var f *os.File
	var tmp string
	var err error
	for range 100 {
		tmp = filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		if f, err = os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm); !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("fsync %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// SyncDir makes a directory's entries (files created, renamed, removed in
// it) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// Group is a group commit: Do runs the operation (an fsync) once for every
// caller that called Do before the run began, so that concurrent callers
// share it. It returns once a run that began after the call has ended. An
// error is sticky: after a failed fsync what is on disk is unknown, so
// every later Do fails with it.
type Group struct {
	mu      sync.Mutex
	cond    *sync.Cond
	asked   uint64 // calls so far
	done    uint64 // calls covered by runs that ended
	running bool
	err     error
}

// Do returns once fn has run from start to end after this call began (by
// this caller or by another one), with the error of that run or an earlier
// failure.
func (g *Group) Do(fn func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.asked++
	seq := g.asked
	for g.done < seq && g.err == nil {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		target := g.asked
		g.mu.Unlock()
		err := fn()
		g.mu.Lock()
		g.running = false
		g.done = target
		if err != nil && g.err == nil {
			g.err = err
		}
		g.cond.Broadcast()
	}
	return g.err
}

// Log is an append-only file of JSON lines (an audit log, receipts), or of
// records of the caller's own framing (AppendRecord: the upload archive).
// Append returns once its line is on disk; concurrent appends share one
// fsync (Group).
type Log struct {
	path string
	mu   sync.Mutex // serializes writes; guards size
	f    *os.File
	size int64
	g    Group
}

// OpenLog opens (creating it and its directory) the log at path.
func OpenLog(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Log{path: path, f: f, size: size}, nil
}

// Path is where the log is.
func (l *Log) Path() string { return l.path }

// Append writes v as one JSON line and returns once it is durable. A line
// that could not be written whole is cut off again, so that the next one
// starts on a line of its own.
func (l *Log) Append(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return l.AppendLine(append(b, '\n'))
}

// AppendLine writes b, one line of JSON already encoded and ending in a
// newline, as Append does (a caller that builds a large line itself, in
// one buffer).
func (l *Log) AppendLine(b []byte) error {
	if len(b) == 0 || b[len(b)-1] != '\n' || bytes.IndexByte(b[:len(b)-1], '\n') >= 0 {
		return fmt.Errorf("writing %s: not one line ending in a newline", l.path)
	}
	return l.AppendRecord(b)
}

// AppendRecord writes b, a record of the caller's own framing (any bytes),
// at the end of the file and returns once it is durable; concurrent
// appends share one fsync. A record that could not be written whole is
// cut off again (a full disk leaves the file as it was).
func (l *Log) AppendRecord(b []byte) error {
	l.mu.Lock()
	n, err := l.f.Write(b)
	if err != nil {
		if n > 0 {
			l.f.Truncate(l.size)
		}
		l.mu.Unlock()
		return fmt.Errorf("writing %s: %w", l.path, err)
	}
	l.size += int64(n)
	l.mu.Unlock()
	if err := l.g.Do(l.f.Sync); err != nil {
		return fmt.Errorf("fsync %s: %w", l.path, err)
	}
	return nil
}

// Close closes the log.
func (l *Log) Close() error { return l.f.Close() }
