// Package testenv is the one test environment of qualitymon: the real
// programs a test runs (InfluxDB 1.8.10, promtool, Prometheus, Alertmanager,
// qualitymon itself), the free ports and polling they need, the shipped
// targets as a fixture, and the rule for what a test does when something is
// missing.
//
// # Skip or fail
//
// A test that cannot get what it needs — a tool, a server, the ../shared
// data — calls [Missing] (the helpers here do so themselves): the test is
// skipped, unless [Required] (CI=true or QUALITYMON_REQUIRE_SERVERS=1), in
// which case it fails with the reason. scripts/test.sh installs everything, so
// under CI nothing may be missing.
//
// # Processes, ports, waiting
//
//   - [Tool] finds a program on $PATH (or an absolute path).
//   - [FreeAddr] is a loopback address nobody listens on.
//   - [StartProcess] runs a program with its output in a log file, stops it
//     when the test ends and, on Linux, kills it when the test binary dies.
//   - [WaitFor] and [WaitHTTP] poll until a condition holds, failing with what
//     was last seen and the process's log.
//   - [BuildQualitymon] builds ./cmd/qualitymon; [RepoRoot] is the directory
//     holding go.mod.
//   - [StartPrometheus] runs Prometheus scraping one target every second,
//     with rule files and an Alertmanager as asked ([PrometheusBinary] finds
//     it); [Prometheus.Value] runs an instant query.
//
// # Targets
//
// [Targets] loads the shipped catalogue and region table, [Plans] the shipped
// plan set (targets/). Both load afresh on every call (about 10 ms).
//
// [Obs] is one observation, [GBK] text as the bureaus' older tools encode
// it, [ASCIIRows] a CSV head longer than the 64 KiB an encoding is guessed
// from, [CopyDir] a fixture directory copied where the test may change it.
// [ScaleSet] and [ScaleFigures] generate the national-scale case of the
// scale benchmarks (regions × indicators, a plan per region or one plan),
// and [LoadAverage] is what benchmarks print beside their figures.
//
// # InfluxDB 1.8.10
//
// InfluxDB 1.8.10 serves the v2-compatible write API (/api/v2/write) and
// Flux queries (/api/v2/query) that github.com/influxdata/influxdb-client-go/v2
// uses. The bucket is "db/rp" ([Influx.Bucket] is "qualitymon/autogen"), the
// org is ignored ("-") and the token is empty because auth is off.
//
// Tests do not build influxd. [InfluxBinary] looks for it in this order:
// $QUALITYMON_INFLUXD, <repo root>/.tools/bin/influxd (where scripts/test.sh,
// through scripts/influxdb.sh install, puts it), $PATH. When there is none, or
// it cannot start, the test is skipped, or fails when [Required], saying to run
// scripts/influxdb.sh install or scripts/test.sh, with the tail of influxd's
// log.
//
// Starting influxd with Flux enabled takes about 5 s of CPU: Flux 0.65
// type-checks its standard library at start-up (the same binary with Flux off
// answers /ping after 80 ms). Measured on an idle 2-CPU machine: [StartInflux]
// 4.7–5.8 s, [Influx.Restart] after [Influx.Kill] 4.7 s, [Influx.Stop] 20 ms.
// Therefore:
//
//   - Use [SharedInflux] for ordinary read/write tests. It starts one server per
//     test binary and hands the same one to every caller. Isolate tests with
//     [Influx.NewBucket], which creates a fresh database. Run the tests through
//     [Main] (or call [Cleanup] after m.Run) to stop it; if you do not, influxd
//     is killed when the test binary exits (Linux) and the next SharedInflux
//     removes its temporary data.
//   - Use [StartInflux] for a private server in fault tests that [Influx.Kill]
//     and [Influx.Restart] InfluxDB. Never stop, kill or restart the shared
//     server.
//   - [Front] puts a proxy in front of an InfluxDB, for a test that holds,
//     refuses or watches requests on their way.
//   - A *store.Store on such a server: internal/store/storetest (Open: a
//     fresh bucket of the shared server; On: a given bucket), closed when the
//     test ends. It lives beside the store because testenv cannot import it
//     (the store's own internal tests import testenv).
//
// # InfluxDB 1.8.10 as seen through influxdb-client-go/v2
//
//   - Works: Ping (GET /ping, 204), Health (status "pass", version "unknown"
//     because go install sets no ldflags), WriteAPIBlocking/WriteAPI,
//     QueryAPI.Query/QueryRaw, Flux pivot, group, last, map, aggregateWindow,
//     union, buckets(), v1.fieldsAsCols. Timestamps keep nanoseconds.
//   - Missing (404): Ready (/ready), DeleteAPI (/api/v2/delete), BucketsAPI
//     and the other management APIs. Delete with InfluxQL through /query
//     (see [Influx.QueryDB]); create databases with [Influx.CreateDatabase].
//   - QueryWithParams fails: Flux 0.65 knows no "params"; build queries as text.
//   - A field's type is fixed per shard (7 days for autogen). Writing 5i where
//     5.0 was written is a 400 in the same shard, but succeeds in another
//     shard, after which Flux silently drops the values of the other type or
//     fails ("expected integer cursor type"). Always write numbers as float64.
//   - Comparing a tag that some series lack (r.region == "x") is fine, but
//     passing it to a function (contains, strings.*, + in map) fails with
//     "missing object properties (region)": as HTTP 500 when the first table
//     fails, otherwise in-band after partial results with HTTP 200 (the client
//     reports that from QueryTableResult.Err, so always check Err). Guard with
//     filter(fn: (r) => exists r.region) first, and write every tag on every
//     point (a tag with an empty value is dropped).
//   - Writing the same series and timestamp again overwrites the fields given.
//   - A bucket without "/rp" means the default retention policy; a missing
//     database is a 404 on write and a 500 ("no database") on query.
//
// Typical use:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestStore(t *testing.T) {
//		srv := testenv.SharedInflux(t)
//		bucket := srv.NewBucket(t)
//		client := influxdb2.NewClient(srv.URL, srv.Token)
//		defer client.Close()
//		w := client.WriteAPIBlocking(srv.Org, bucket)
//		...
//	}
package testenv
