package testenv_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestOfficialClient checks that github.com/influxdata/influxdb-client-go/v2
// works against InfluxDB 1.8.10, and pins the 1.8 behaviours the store relies
// on or must avoid.
func TestOfficialClient(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	client := influxdb2.NewClient(srv.URL, srv.Token)
	defer client.Close()

	if ok, err := client.Ping(ctx); !ok || err != nil {
		t.Fatalf("Ping = %v, %v", ok, err)
	}
	h, err := client.Health(ctx)
	if err != nil || h.Status != "pass" {
		t.Fatalf("Health = %+v, %v", h, err)
	}

	w := client.WriteAPIBlocking(srv.Org, bucket)
	at := time.Date(2023, 12, 31, 0, 0, 0, 123456789, time.UTC) // nanoseconds survive
	tags := map[string]string{"indicator": "food_safety_pass_rate", "region": "370000"}
	if err := w.WritePoint(ctx, influxdb2.NewPoint("observation", tags,
		map[string]any{"value": 98.5, "revision": int64(1), "source": "nbs"}, at)); err != nil {
		t.Fatal(err)
	}
	// Same series and timestamp: fields are overwritten (an upsert).
	if err := w.WritePoint(ctx, influxdb2.NewPoint("observation", tags,
		map[string]any{"value": 98.75, "revision": int64(2), "source": "nbs"}, at)); err != nil {
		t.Fatal(err)
	}

	flux := fmt.Sprintf(`from(bucket: %q)
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "observation")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`, bucket)
	res, err := client.QueryAPI(srv.Org).Query(ctx, flux)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for res.Next() {
		n++
		rec := res.Record()
		if !rec.Time().Equal(at) {
			t.Errorf("time = %v, want %v", rec.Time(), at)
		}
		if v := rec.ValueByKey("value"); v != 98.75 {
			t.Errorf("value = %#v, want 98.75", v)
		}
		if v := rec.ValueByKey("revision"); v != int64(2) {
			t.Errorf("revision = %#v, want 2", v)
		}
		if v := rec.ValueByKey("region"); v != "370000" {
			t.Errorf("region = %#v", v)
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

// TestInflux18Limits pins what InfluxDB 1.8.10 does not offer, so nobody
// builds on it by accident: /ready, the delete and buckets APIs, and Flux
// query parameters. Deleting goes through InfluxQL instead.
func TestInflux18Limits(t *testing.T) {
	srv := testenv.SharedInflux(t)
	bucket := srv.NewBucket(t)
	db := strings.TrimSuffix(bucket, "/autogen")
	ctx := context.Background()
	client := influxdb2.NewClient(srv.URL, srv.Token)
	defer client.Close()

	if _, err := client.Ready(ctx); err == nil {
		t.Error("Ready succeeded; InfluxDB 1.8 has no /ready")
	}
	if _, err := client.BucketsAPI().GetBuckets(ctx); err == nil {
		t.Error("BucketsAPI succeeded; InfluxDB 1.8 has no /api/v2/buckets")
	}
	err := client.DeleteAPI().DeleteWithName(ctx, srv.Org, bucket, time.Unix(0, 0), time.Now(), `region="370000"`)
	if err == nil {
		t.Error("DeleteAPI succeeded; InfluxDB 1.8 has no /api/v2/delete")
	}
	if _, err := client.QueryAPI(srv.Org).QueryWithParams(ctx,
		fmt.Sprintf(`from(bucket: %q) |> range(start: params.start)`, bucket),
		map[string]any{"start": "2020-01-01T00:00:00Z"}); err == nil {
		t.Error("QueryWithParams succeeded; Flux 0.65 in InfluxDB 1.8 knows no params")
	}

	// A write to a missing database fails with 404.
	if err := client.WriteAPIBlocking(srv.Org, "nosuchdb/autogen").WriteRecord(ctx, "m value=1 1"); err == nil {
		t.Error("write to a missing database succeeded")
	}

	// Within one shard (7 days for autogen) a field keeps its first type.
	w := client.WriteAPIBlocking(srv.Org, bucket)
	if err := w.WriteRecord(ctx, "observation,region=370000 value=1.5 1704067200000000000"); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(ctx, "observation,region=370000 value=2i 1704067201000000000"); err == nil {
		t.Error("writing an integer into a float field of the same shard succeeded")
	}

	// A function applied to a tag that some series lack fails: from Query
	// (HTTP 500) when the first table fails, else in-band from res.Err after
	// partial results.
	if err := w.WriteRecord(ctx, "observation,indicator=x value=3.5 1704067200000000000"); err != nil {
		t.Fatal(err)
	}
	res, err := client.QueryAPI(srv.Org).Query(ctx, fmt.Sprintf(`from(bucket: %q) |> range(start: 0)
  |> filter(fn: (r) => contains(value: r.region, set: ["370000"]))`, bucket))
	if err == nil {
		for res.Next() {
		}
		err = res.Err()
	}
	if err == nil || !strings.Contains(err.Error(), "missing object properties") {
		t.Errorf("contains() on a missing tag: err = %v, want missing object properties", err)
	}

	// InfluxQL DELETE works (against the database, unqualified measurement).
	srv.QueryDB(t, db, `DELETE FROM observation WHERE region = '370000'`)
	if s := srv.QueryDB(t, db, `SELECT * FROM observation WHERE region = '370000'`); len(s) != 0 {
		t.Errorf("after DELETE: %+v", s)
	}
}
