package upload

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// memBudget is the budget: peak RSS over idle, per file and for
// three hostile files at once.
const memBudget = 256 << 20

// BenchmarkMemory (issue 19 items 1 and 6; scripts/bench-memory.sh runs it)
// builds the hostile and the valid limit-sized inputs, sends each to a
// fresh `qualitymon serve` (the real binary over the real InfluxDB 1.8.10)
// or reads it with `qualitymon import`, and prints the process's peak RSS
// over its idle RSS beside the 256 MiB budget and the figure measured
// before issue 19. serve: VmHWM minus VmRSS at idle, from
// /proc/PID/status; import: the peak RSS of the process (getrusage) minus
// that of importing a five-row file. No assertion: the figures are
// printed.
func BenchmarkMemory(b *testing.B) {
	influx := testenv.StartInflux(b)
	dir := b.TempDir()
	qm := testenv.BuildQualitymon(b, dir)
	const tok = "bench-memory-token-0123456789"
	files := filepath.Join(dir, "files")
	os.MkdirAll(files, 0o755)
	write := func(name string, data []byte) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		return p
	}
	styles := stylesBombXLSX(b, 57<<20)
	sst := sharedStringsBombXLSX(b, 900_000)
	book := rowsXLSX(b, 690_000)
	csv := rowsCSV(331_000)
	quoted := filepath.Join(files, "quoted.csv")
	writeQuotedCSV(b, quoted, 200<<20)
	tiny := write("tiny.csv", rowsCSV(5))
	fmt.Printf("memory: inputs: styles bomb %d bytes, shared strings bomb %d bytes, workbook of 690,000 rows %d bytes, CSV of 331,000 rows %d bytes, quoted CSV 200 MiB\n",
		len(styles), len(sst), len(book), len(csv))

	config := func(d string) string {
		addr := testenv.FreeAddr(b)
		cfg := filepath.Join(d, "qualitymon.yaml")
		writeBenchConfig(b, cfg, influx, d, addr, `evaluation: {schedule: "@every 60m"}`, tok)
		return cfg
	}
	report := func(name string, before int, over int64, detail string) {
		verdict := "within"
		if over > memBudget {
			verdict = "OVER"
		}
		was := "not measured"
		if before > 0 {
			was = strconv.Itoa(before) + " MB"
		}
		fmt.Printf("memory: %-50s peak RSS %5.0f MiB over idle  (budget %d MiB: %s; before: %s)  %s\n",
			name, float64(over)/(1<<20), memBudget>>20, verdict, was, detail)
	}

	type upload struct {
		name, ct string
		data     []byte
		dryRun   bool
	}
	only := os.Getenv("QUALITYMON_BENCH_CASES") // a part of the names to run, "serve: …" or "import: …" (empty: all)
	var serveEnv []string                       // added to serve's environment
	serveCase := func(name string, before int, ups ...upload) {
		if !strings.Contains("serve: "+name, only) {
			return
		}
		d := b.TempDir()
		cfg := config(d)
		addr := strings.TrimSpace(strings.SplitN(strings.SplitN(mustRead(b, cfg), "listen: ", 2)[1], "\n", 2)[0])
		serve := testenv.StartProcess(b, d, "qualitymon-serve", append(influx.Env(), serveEnv...), qm, "serve", "--config", cfg)
		testenv.WaitHTTP(b, serve, "http://"+addr+"/readyz", time.Minute)
		time.Sleep(2 * time.Second)
		idle := procStatus(b, serve.Pid(), "VmRSS")
		statuses := make([]string, len(ups))
		var wg sync.WaitGroup
		for i, u := range ups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The inputs' daily AQI jumps look implausible to the
				// plausibility check: confirmed, as a bureau would.
				q := "?confirm_warnings=1"
				if u.dryRun {
					q += "&dry_run=true"
				}
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+Path+q, bytes.NewReader(u.data))
				req.Header.Set("Content-Type", u.ct)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Disposition", `attachment; filename="`+u.name+`"`)
				resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
				if err != nil {
					statuses[i] = err.Error()
					return
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				statuses[i] = fmt.Sprintf("%d %s", resp.StatusCode, clipped(string(msg)))
			}()
		}
		wg.Wait()
		peak := procStatus(b, serve.Pid(), "VmHWM")
		serve.Stop()
		report("serve: "+name, before, peak-idle, fmt.Sprintf("(idle %.0f MiB) → %s", float64(idle)/(1<<20), strings.Join(statuses, " | ")))
	}
	importRSS := func(file string) (int64, string) {
		d := b.TempDir()
		cmd := exec.Command(qm, "import", "--config", config(d), file)
		cmd.Env = append(os.Environ(), influx.Env()...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The peak is read from /proc while the import runs: the rusage
		// of a child started by Go (vfork) counts this benchmark's own
		// peak too, as Linux carries the parent's high-water mark over
		// the exec.
		peak := hwmWhileRunning(cmd)
		status := "exit 0"
		if err := cmd.Wait(); err != nil {
			status = err.Error()
		}
		return peak, status + ": " + clipped(out.String())
	}
	importCase := func(name string, before int, file string, idle int64) {
		if !strings.Contains("import: "+name, only) {
			return
		}
		peak, status := importRSS(file)
		report("import: "+name, before, peak-idle, fmt.Sprintf("(five-row import %.0f MiB) → %s", float64(idle)/(1<<20), status))
	}

	for b.Loop() {
		serveCase("workbook, styles.xml inflating to 57 MiB", 1498, upload{"styles.xlsx", TypeXLSX, styles, true})
		serveCase("workbook, 900,000 tiny shared strings", 381, upload{"sst.xlsx", TypeXLSX, sst, true})
		serveCase("valid workbook of 690,000 rows", 1228, upload{"rows.xlsx", TypeXLSX, book, false})
		serveCase("valid workbook of 690,000 rows, dry run", 0, upload{"rows.xlsx", TypeXLSX, book, true})
		serveCase("valid CSV of 331,000 rows", 662, upload{"rows.csv", TypeCSV, csv, false})
		serveCase("valid CSV of 331,000 rows, dry run", 0, upload{"rows.csv", TypeCSV, csv, true})
		serveCase("three styles bombs at once", 1680, upload{"s1.xlsx", TypeXLSX, styles, true}, upload{"s2.xlsx", TypeXLSX, styles, true}, upload{"s3.xlsx", TypeXLSX, styles, true})
		serveCase("three shared strings bombs at once", 0, upload{"t1.xlsx", TypeXLSX, sst, true}, upload{"t2.xlsx", TypeXLSX, sst, true}, upload{"t3.xlsx", TypeXLSX, sst, true})
		// The same with Go's soft memory limit (GOMEMLIMIT), which an
		// operator may set: the collector then works to hold the heap.
		serveEnv = []string{"GOMEMLIMIT=256MiB"}
		serveCase("valid workbook of 690,000 rows, GOMEMLIMIT=256MiB", 1228, upload{"rows.xlsx", TypeXLSX, book, false})
		serveCase("valid CSV of 331,000 rows, GOMEMLIMIT=256MiB", 662, upload{"rows.csv", TypeCSV, csv, false})
		serveEnv = nil
		idle, status := importRSS(tiny)
		fmt.Printf("memory: import of five rows: peak RSS %.0f MiB → %s\n", float64(idle)/(1<<20), status)
		importCase("200 MiB CSV, one quoted cell of line breaks", 874, quoted, idle)
		importCase("workbook, styles.xml inflating to 57 MiB", 1482, write("styles.xlsx", styles), idle)
		importCase("valid workbook of 690,000 rows", 73, write("rows.xlsx", book), idle)
	}
}

func mustRead(tb testing.TB, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func clipped(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// hwmWhileRunning polls the peak RSS (VmHWM) of cmd's process every 5 ms
// until it exits, and returns the last reading.
func hwmWhileRunning(cmd *exec.Cmd) int64 {
	var peak int64
	path := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	for {
		data, err := os.ReadFile(path)
		if err != nil {
			return peak
		}
		_, rest, ok := strings.Cut(string(data), "VmHWM:")
		if !ok { // the process is exiting (a zombie has no memory)
			return peak
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]), " kB"), 10, 64)
		peak = max(peak, n<<10)
		time.Sleep(5 * time.Millisecond)
	}
}

// procStatus reads a size field (kB) of /proc/PID/status, in bytes.
func procStatus(tb testing.TB, pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == field {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// benchKey is the i-th distinct key of the memory inputs: aqi_daily for
// one of the cities on a day from 1900 on.
func benchKey(i int) (region, day string) {
	return benchCities[i%len(benchCities)], time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/len(benchCities)).Format("2006-01-02")
}

// rowsCSV is a valid canonical CSV of n rows.
func rowsCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("indicator,region,period,value\n")
	for i := 0; i < n; i++ {
		r, d := benchKey(i)
		fmt.Fprintf(&b, "aqi_daily,%s,%s,%d\n", r, d, 20+i%200)
	}
	return b.Bytes()
}

// writeQuotedCSV writes a CSV of one row whose note is a quoted cell of
// size line breaks.
func writeQuotedCSV(tb testing.TB, path string, size int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("indicator,region,period,value,note\naqi_daily,370100,2020-01-01,55,\"")
	nl := bytes.Repeat([]byte("\n"), 1<<20)
	for left := size; left > 0; left -= len(nl) {
		w.Write(nl[:min(left, len(nl))])
	}
	w.WriteString("\"\n")
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// workbookZip writes a workbook of the given parts besides the package
// and workbook parts every workbook has; parts are written by function so
// that a large one is streamed into the zip.
func workbookZip(tb testing.TB, parts map[string]func(io.Writer)) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, fill func(io.Writer)) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		bw := bufio.NewWriterSize(w, 1<<20)
		fill(bw)
		bw.Flush()
	}
	text := func(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	add("[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`))
	add("_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	add("xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`))
	add("xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`))
	for _, name := range []string{"xl/styles.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"} {
		if fill, ok := parts[name]; ok {
			add(name, fill)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

const (
	sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
	// headerRow is the canonical header, inline.
	headerRow = `<row r="1"><c t="inlineStr"><is><t>indicator</t></is></c><c t="inlineStr"><is><t>region</t></is></c><c t="inlineStr"><is><t>period</t></is></c><c t="inlineStr"><is><t>value</t></is></c></row>`
	// oneRow is a valid row, inline.
	oneRow = `<row r="2"><c t="inlineStr"><is><t>aqi_daily</t></is></c><c t="inlineStr"><is><t>370100</t></is></c><c t="inlineStr"><is><t>2020-01-01</t></is></c><c><v>55</v></c></row>`
)

// stylesBombXLSX is a valid one-row workbook whose styles part inflates
// to size bytes of cell formats.
func stylesBombXLSX(tb testing.TB, size int) []byte {
	return workbookZip(tb, map[string]func(io.Writer){
		"xl/styles.xml": func(w io.Writer) {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>`)
			const xf = `<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>`
			for n := 0; n < size; n += len(xf) {
				io.WriteString(w, xf)
			}
			io.WriteString(w, `</cellXfs></styleSheet>`)
		},
		"xl/worksheets/sheet1.xml": func(w io.Writer) { io.WriteString(w, sheetHead+headerRow+oneRow+sheetTail) },
	})
}

// sharedStringsBombXLSX is a valid workbook of one row whose shared
// strings are n tiny strings; the row refers to the first and the last.
func sharedStringsBombXLSX(tb testing.TB, n int) []byte {
	return workbookZip(tb, map[string]func(io.Writer){
		"xl/sharedStrings.xml": func(w io.Writer) {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>aqi_daily</t></si>`)
			for i := 2; i < n; i++ {
				io.WriteString(w, `<si><t>x</t></si>`)
			}
			io.WriteString(w, `<si><t>370100</t></si></sst>`)
		},
		"xl/worksheets/sheet1.xml": func(w io.Writer) {
			fmt.Fprintf(w, `%s%s<row r="2"><c t="s"><v>0</v></c><c t="s"><v>%d</v></c><c t="inlineStr"><is><t>2020-01-01</t></is></c><c><v>55</v></c></row>%s`, sheetHead, headerRow, n-1, sheetTail)
		},
	})
}

// rowsXLSX is a valid canonical workbook of n rows, written as compactly
// as a workbook can be (shared strings, no cell references), so that its
// sheet stays within limits.sheet_xml_bytes.
func rowsXLSX(tb testing.TB, n int) []byte {
	days := (n + len(benchCities) - 1) / len(benchCities)
	return workbookZip(tb, map[string]func(io.Writer){
		"xl/sharedStrings.xml": func(w io.Writer) {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>aqi_daily</t></si>`)
			for _, c := range benchCities {
				fmt.Fprintf(w, `<si><t>%s</t></si>`, c)
			}
			for d := 0; d < days; d++ {
				_, day := benchKey(d * len(benchCities))
				fmt.Fprintf(w, `<si><t>%s</t></si>`, day)
			}
			io.WriteString(w, `</sst>`)
		},
		"xl/worksheets/sheet1.xml": func(w io.Writer) {
			io.WriteString(w, sheetHead+headerRow)
			for i := 0; i < n; i++ {
				c, d := i%len(benchCities), i/len(benchCities)
				fmt.Fprintf(w, `<row><c t="s"><v>0</v></c><c t="s"><v>%d</v></c><c t="s"><v>%d</v></c><c><v>%d</v></c></row>`, 1+c, 1+len(benchCities)+d, 20+i%200)
			}
			io.WriteString(w, sheetTail)
		},
	})
}
