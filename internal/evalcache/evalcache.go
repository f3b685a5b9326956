// Package evalcache bounds what evaluations for a moment cost serve: the
// /api/v1/status API, the pages and the exports with ?at= or ?known_at=
// (each an engine.Load: every figure of the plans read from InfluxDB and
// judged afresh). A result is cached by its plan, its normalised moments
// (the instants, whatever their spelling) and the data generation: serve
// bumps the generation (Invalidate) whenever its spool has stored rows, so
// an upload to this process is seen by the next request; what other
// processes write (qualitymon import, another replica) is seen once the
// entry's TTL has passed (web.moments.cache_ttl, 30 s by default). Requests
// for the same key while it is being evaluated wait for that one evaluation.
// At most Concurrent evaluations run at once; past it a request is refused at
// once with a *BusyError (503 with Retry-After), rather than queueing behind
// work that InfluxDB and two cores cannot do faster.
package evalcache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qualitymon/qualitymon/internal/engine"
	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/store"
)

// Defaults of Options (and of web.moments).
const (
	DefaultConcurrent = 4
	DefaultTTL        = 30 * time.Second
	DefaultEntries    = 8
	// RetryAfter is what a refused request is told to wait.
	RetryAfter = 5 * time.Second
)

// Options tune a Cache; zero fields take the defaults.
type Options struct {
	// Concurrent is how many evaluations may run at once.
	Concurrent int
	// TTL is how long a result is served: the bound on how late writes by
	// other processes are seen.
	TTL time.Duration
	// Entries is how many results are kept (each holds the figures it
	// judged: a bound on memory).
	Entries int
	// Registerer, when set, gets the cache's metrics.
	Registerer prometheus.Registerer
}

func (o Options) withDefaults() Options {
	if o.Concurrent <= 0 {
		o.Concurrent = DefaultConcurrent
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Entries <= 0 {
		o.Entries = DefaultEntries
	}
	return o
}

// BusyError refuses an evaluation while Limit are running; its message is
// for the people reading the pages.
type BusyError struct{ Limit int }

func (e *BusyError) Error() string {
	return fmt.Sprintf("服务器繁忙:同时计算的历史时点查询已达上限(%d 个),请 %d 秒后重试。", e.Limit, int(RetryAfter/time.Second))
}

// RetryAfterSeconds is the Retry-After of the answer.
func (e *BusyError) RetryAfterSeconds() int { return int(RetryAfter / time.Second) }

// Key is what a result is cached by.
type key struct {
	plan        string
	at, knownAt int64 // Unix nanoseconds; knownAt 0 when every figure counts
	gen         uint64
}

type entry struct {
	evals   []evaluate.Evaluation
	data    *evaluate.Data
	expires time.Time
}

// call is an evaluation in progress; done is closed when it ends.
type call struct {
	done  chan struct{}
	evals []evaluate.Evaluation
	data  *evaluate.Data
	err   error
}

// Cache evaluates moments for serve. The results it returns are shared
// between requests: callers must not modify them.
type Cache struct {
	Store     *store.Store
	Evaluator *evaluate.Evaluator
	opts      Options
	slots     chan struct{}
	now       func() time.Time

	mu       sync.Mutex
	gen      uint64
	entries  map[key]*entry
	inflight map[key]*call

	evaluations, hits, refused prometheus.Counter
	// BeforeEvaluate, when set (a test seam), runs in each evaluation once it
	// holds its slot, before it reads the store.
	BeforeEvaluate func()
}

// New is a cache evaluating over st with ev.
func New(st *store.Store, ev *evaluate.Evaluator, opts Options) *Cache {
	opts = opts.withDefaults()
	c := &Cache{Store: st, Evaluator: ev, opts: opts, slots: make(chan struct{}, opts.Concurrent), now: time.Now,
		entries: map[key]*entry{}, inflight: map[key]*call{},
		evaluations: prometheus.NewCounter(prometheus.CounterOpts{Name: "qualitymon_moment_evaluations_total",
			Help: "Evaluations for a requested moment (?at=, ?known_at=) computed afresh."}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{Name: "qualitymon_moment_cache_hits_total",
			Help: "Requests for a moment answered from the cache or from an evaluation another request started."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "qualitymon_moment_refused_total",
			Help: "Requests for a moment refused with 503 because web.moments.concurrent evaluations were running."}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(c.evaluations, c.hits, c.refused)
	}
	return c
}

// Configure replaces the options (zero fields: the defaults but for
// Registerer, which only New uses); call it before the cache serves.
func (c *Cache) Configure(opts Options) {
	opts = opts.withDefaults()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts.Concurrent, c.opts.TTL, c.opts.Entries = opts.Concurrent, opts.TTL, opts.Entries
	c.slots = make(chan struct{}, opts.Concurrent)
}

// Invalidate makes every cached result stale: the data has changed.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// Load is engine.Load through the cache: the evaluations of the plan (every
// plan when planKey is empty) at the moment at with the figures known at
// knownAt (zero: all). A *BusyError when too many evaluations are running.
func (c *Cache) Load(ctx context.Context, planKey string, at, knownAt time.Time) ([]evaluate.Evaluation, *evaluate.Data, error) {
	k := key{plan: planKey, at: at.UnixNano()}
	if !knownAt.IsZero() {
		k.knownAt = knownAt.UnixNano()
	}
	c.mu.Lock()
	k.gen = c.gen
	if e := c.entries[k]; e != nil {
		if c.now().Before(e.expires) {
			c.mu.Unlock()
			c.hits.Inc()
			return e.evals, e.data, nil
		}
		delete(c.entries, k)
	}
	if cl := c.inflight[k]; cl != nil {
		c.mu.Unlock()
		c.hits.Inc()
		select {
		case <-cl.done:
			return cl.evals, cl.data, cl.err
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	slots := c.slots
	select {
	case slots <- struct{}{}:
	default:
		c.mu.Unlock()
		c.refused.Inc()
		return nil, nil, &BusyError{Limit: cap(slots)}
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[k] = cl
	c.mu.Unlock()

	// The evaluation is shared, so one caller going away must not cancel
	// it for the others. Its TTL counts from before it read anything.
	start := c.now()
	cl.evals, cl.data, cl.err = c.evaluate(context.WithoutCancel(ctx), planKey, at, knownAt)
	<-slots

	c.mu.Lock()
	delete(c.inflight, k)
	if cl.err == nil && k.gen == c.gen {
		c.store(k, &entry{evals: cl.evals, data: cl.data, expires: start.Add(c.opts.TTL)})
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.evals, cl.data, cl.err
}

func (c *Cache) evaluate(ctx context.Context, planKey string, at, knownAt time.Time) ([]evaluate.Evaluation, *evaluate.Data, error) {
	c.evaluations.Inc()
	if c.BeforeEvaluate != nil {
		c.BeforeEvaluate()
	}
	return engine.Load(ctx, c.Store, c.Evaluator, planKey, at, knownAt)
}

// store keeps e, dropping the entry that expires first when full; c.mu held.
func (c *Cache) store(k key, e *entry) {
	for len(c.entries) >= c.opts.Entries {
		var oldest key
		var first *entry
		for k2, e2 := range c.entries {
			if first == nil || e2.expires.Before(first.expires) {
				oldest, first = k2, e2
			}
		}
		delete(c.entries, oldest)
	}
	c.entries[k] = e
}
