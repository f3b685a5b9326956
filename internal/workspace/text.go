package workspace

import (
	"fmt"
	"html/template"
	"regexp"
	"strings"

	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// funcs are the workspace's template functions: Chinese words for
// states and for the pipeline's (English) error messages, which are kept
// beside the Chinese for whoever has to look further.
var funcs = template.FuncMap{
	"duestate": func(s string) string {
		return map[string]string{DueReported: "已报送", DueMissing: "未报送", DueOverdue: "逾期", DuePending: "待审核"}[s]
	},
	"decision": func(s string) string {
		return map[string]string{"pending": "待审核", "storing": "已批准,入库中", "approved": "已批准,已入库", "returned": "已退回,未入库"}[s]
	},
	"change": func(s string) string {
		return map[string]string{"new": "新增", "revised": "修订", "unchanged": "未变化"}[s]
	},
	"problem":  problem,
	"column":   columnText,
	"excerpt":  ingest.Excerpt,
	"expected": expectedText,
	"failure":  failure,
}

// problems maps a fragment of the pipeline's message to what it means.
var problems = []struct{ has, zh string }{
	{"not allowed to report", "超出本单位报送范围"},
	{"a line longer than", "这一行过长"},
	{"byte-order mark", "文件开头标明为 UTF-8,但这一行不是 UTF-8 文本"},
	{"header is not a period", "表头不是时期"},
	{"a cell longer than", "单元格内容过长"},
	{"is longer than", "内容过长"},
	{"unknown indicator", "指标名称无法识别"},
	{"unknown region", "地区名称或代码无法识别"},
	{"is not a period", "时期格式不对"},
	{"invalid period", "时期格式不对"},
	{"which is reported", "时期与该指标的统计频率不符"},
	{"period is in the future", "该时期尚未开始"},
	{"is not a number", "不是数字"},
	{"a percentage for", "该指标不是百分比,请填写纯数字"},
	{"outside the valid range", "数值超出该指标的合理范围"},
	{"outside its valid range", "推算出的数值超出合理范围"},
	{"does not match", "单位与该指标的单位不一致"},
	{"duplicate key", "同一指标、地区、时期在文件中出现了两次"},
	{"no data rows", "文件中没有数据行"},
	{"no header row", "文件没有表头行"},
	{"missing column", "缺少必需的列"},
	{"given twice", "同一列出现了两次"},
	{"a cell beyond", "这一行的单元格多于表头的列数"},
	{"exceeds the limit", "超出大小限制"},
	{"more rows than the limit", "行数超出限制"},
	{"not a readable XLSX", "不是可读取的 Excel(.xlsx)文件"},
	{"no worksheet", "Excel 文件中没有工作表"},
	{"unsupported file type", "不支持的文件类型"},
	{"misplaced comma", "逗号位置不对:千位分隔符只能出现在小数点前、每三位数字之间(如 1,482、12,345.6),小数点请用“.”"},
	{"not a number", "不是数字"},
	{"empty value", "数值为空"},
	{"number too large", "数字过大"},
	{"control character", "单元格中有控制字符(如换行、制表符或不可见字符)"},
	{"bidirectional control", "单元格中有改变文字方向的不可见字符"},
	{"replacement character", "单元格中有乱码(替换字符 U+FFFD)"},
	{"not UTF-8 text", "这一行不是 UTF-8 文本"},
	{"mixed text encodings", "文件混用了多种文字编码(UTF-8 与 GBK)"},
	{"neither UTF-8 nor GBK", "这一行既不是 UTF-8 也不是 GBK 文本,无法识别"},
	{"shared string", "Excel 文件中的文字内容损坏(无法识别的实体或标记)"},
	{"XML syntax error", "Excel 文件中的单元格内容损坏(无法识别的实体或标记)"},
	{"formula without a calculated value", "公式单元格没有计算结果"},
}

// scopeWhat finds the region (code and name) or the indicator in the
// message of a row outside a reporter's scope (ingest Scope.outside).
var scopeWhat = regexp.MustCompile(`not allowed to report (?:for region (\d{6} \S+)|indicator (\S+))`)

// problem is an error in Chinese; the pipeline's own (English) words are
// kept for whoever has to look further as the cell's tooltip (the template
// puts e.Message in a title attribute), never in the visible text.
func problem(e *ingest.Error) string {
	// "… is not allowed to report for region 370100 济南市 (…)" or "… to
	// report indicator x (…)": the region or indicator named. (The upload
	// API's answer does not carry OutOfScope; the message says it.)
	if m := scopeWhat.FindStringSubmatch(e.Message); m != nil {
		if m[1] != "" {
			return "超出本单位报送范围:地区 " + m[1]
		}
		return "超出本单位报送范围:指标 " + m[2]
	}
	if zh, ok := problemZh(e); ok {
		return zh
	}
	return "这一项无法接受"
}

// problemZh is what the error means in Chinese, when problems says.
func problemZh(e *ingest.Error) (string, bool) {
	for _, p := range problems {
		if strings.Contains(e.Message, p.has) {
			return p.zh, true
		}
	}
	return "", false
}

// expectations maps the pipeline's "expected" texts to Chinese.
var expectations = map[string]string{
	ingest.NumberForms:                             "数字,如 98.5、98.5% 或 1,482",
	"a plain number":                               "纯数字(不带 %)",
	"a period that has begun":                      "已经开始的时期",
	ingest.RegionExpected:                          "行政区划代码(如 370200)或省、市、县名称(如 青岛市、胶州市)",
	"an indicator of its 报送范围":                     "本单位报送范围内的指标",
	"a header row and at least one row of figures": "一行表头和至少一行数据",
	ingest.TextExpected:                            "一行纯文本,不含控制字符",
	ingest.MultilineExpected:                       "纯文本(可含制表符和换行,不含其他控制字符)",
	ingest.EncodingExpected:                        "整个文件使用同一种编码保存:UTF-8(Excel 中选“CSV UTF-8”)或 GBK",
	ingest.XLSXTextExpected:                        "用 Excel、WPS 或 LibreOffice 重新保存的 .xlsx 文件",
	ingest.FormulaExpected:                         "用 Excel 或 WPS 保存(会保存公式的计算结果),或直接填写数字",
}

// periodExamples are the validator's examples of a period of each
// frequency (ingest periodExample), in Chinese.
var periodExamples = map[string]string{
	"a year such as 2020":         "年份,如 2020",
	"a half year such as 2020-H1": "半年,如 2020-H1",
	"a quarter such as 2020-Q3":   "季度,如 2020-Q3",
	"a month such as 2020-07":     "月份,如 2020-07",
	"a day such as 2020-07-15":    "日期,如 2020-07-15",
	"a period such as 2024年":      "时期,如 2024年",
	"a region of its 报送范围":        "本单位报送范围内的地区",
}

func expectedText(e *ingest.Error) string {
	if zh, ok := expectations[e.Expected]; ok {
		return zh
	}
	if zh, ok := periodExamples[e.Expected]; ok {
		return zh
	}
	if scopeWhat.MatchString(e.Message) && e.Expected != "" {
		return "本单位报送范围内的地区:" + e.Expected
	}
	if n, ok := strings.CutPrefix(e.Expected, "at most "); ok {
		n, _, _ = strings.Cut(n, " (")
		return "不超过 " + strings.NewReplacer(" rows", " 行", " cells", " 个单元格").Replace(n)
	}
	if strings.Contains(e.Expected, " or ") && !strings.Contains(e.Expected, ",") {
		return "以下之一:" + strings.ReplaceAll(e.Expected, " or ", "、")
	}
	if e.Expected == "" && strings.Contains(e.Message, "period") {
		return "年份如 2024,半年如 2024-H1,季度如 2024-Q3,月份如 2024-07(也可写 2024年、2024年第3季度)"
	}
	if lo, hi, ok := strings.Cut(e.Expected, ".."); ok && !strings.Contains(lo, " ") {
		return lo + " 至 " + strings.Replace(hi, " percent", "(百分数)", 1)
	}
	if strings.HasPrefix(e.Expected, "a catalogue id") {
		return "指标名称(如 食品抽检合格率)或指标代码(模板中已列出)"
	}
	if strings.HasPrefix(e.Expected, "a header with") {
		return "表头含 指标、地区、时期、数值 四列(或 indicator,region,period,value)"
	}
	if e.Expected == "" {
		return "—"
	}
	return "见说明(" + e.Expected + ")"
}

// failure says in Chinese why the API could not take the file.
func failure(r *upload.Response) string {
	switch r.Status {
	case 401:
		return "令牌已失效(可能已被管理员撤销),请重新登录。"
	case 413:
		return "文件太大。"
	case 415:
		return "只能上传 Excel(.xlsx)或 CSV(.csv)文件。"
	case 503:
		return "服务器暂时无法保存数据,没有任何数据入库,请稍后再试。"
	}
	return fmt.Sprintf("服务器未能处理这份文件(错误代码 %d)。", r.Status)
}

// columnText names the column of an error: the file's own header as it
// is written, or in Chinese the pipeline's names for the whole file, the
// header row, the canonical columns and a workbook's cell.
func columnText(c string) string {
	if zh, ok := map[string]string{"file": "整个文件", "header": "表头", ingest.ColIndicator: "指标", ingest.ColRegion: "地区",
		ingest.ColPeriod: "时期", ingest.ColValue: "数值", ingest.ColUnit: "单位", ingest.ColSource: "来源", ingest.ColNote: "备注"}[c]; ok {
		return zh
	}
	if cell, ok := strings.CutPrefix(c, "cell "); ok {
		return "单元格 " + cell
	}
	return c
}
