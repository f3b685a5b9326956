package shell

import (
	"net/http"

	"golang.org/x/text/language"
)

// Lang is the language of a page: Chinese, the pages' own, or English, the
// second language (?lang=en, or a browser that prefers English).
type Lang string

// The languages of the pages.
const (
	Zh Lang = "zh"
	En Lang = "en"
)

// Langs are the languages, the default first.
var Langs = []Lang{Zh, En}

var langMatcher = language.NewMatcher([]language.Tag{language.SimplifiedChinese, language.English})

// LangOf is the language a request asks for: ?lang=zh or ?lang=en, else the
// best match of its Accept-Language, else Chinese. (The parameter is
// checked by the page that reads it; an unknown value here is Chinese.)
func LangOf(r *http.Request) Lang {
	switch Lang(r.URL.Query().Get("lang")) {
	case En:
		return En
	case Zh:
		return Zh
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return Zh
	}
	if _, i, conf := langMatcher.Match(tags...); i == 1 && conf >= language.High {
		return En
	}
	return Zh
}

// T is a phrase of the pages in l: the Chinese phrase itself, or its
// English from the catalogue (the Chinese when the catalogue lacks it).
func (l Lang) T(zh string) string {
	if l == En {
		if en, ok := english[zh]; ok {
			return en
		}
	}
	return zh
}

// HTMLLang is the lang attribute of a page in l.
func (l Lang) HTMLLang() string {
	if l == En {
		return "en"
	}
	return "zh-CN"
}

// english is the catalogue of the second language: the pages' Chinese
// phrases and their English.
var english = map[string]string{
	"质量目标看板": "Quality targets", "总览": "Overview", "指标": "Indicator", "评估日期": "Evaluation date",
	"数据截至(报送)": "Figures reported by", "查看": "Show", "回到今天": "Back to today",
	"仅用": "using only figures and revisions reported before", "前报送的数据与修订": "",
	"使用目前已报送的全部数据":             "using every figure reported so far",
	"依据联合国可持续发展目标进展图的方法判断目标状态": "statuses judged by the method of the UN SDG Progress Chart",
	"数据来源见各目标页面":               "sources on each target's page", "运行指标": "metrics", "中文": "中文",
	"个规划": "plans", "项目标评估(目标×地区)": "evaluations (target × region)", "已达标": "achieved",
	"项数据逾期未报": "with overdue figures", "变化": "Changes", "项不可量化跟踪": "not trackable", "各规划目标状态": "Status of each plan's targets",
	"规划": "Plan", "地区": "Region", "期末": "Horizon", "达标率": "Achieved", "数据逾期": "Overdue figures", "报告": "Report",
	"质量状况分析报告": "Quality report", "状态说明": "Statuses", "年": "",
	"已达到目标(到期年份数据达标,或规划期内数据已达标)": "The target is met (by the deadline year's figure, or already by a figure within the plan period)",
	"按当前趋势可在期限前达标(预测进度比 ≥ 0.95)": "On the current trend the target is met by the deadline (projected progress ratio ≥ 0.95)",
	"需要加快进度(预测进度比 0.10–0.95)":    "Progress must speed up (projected progress ratio 0.10–0.95)",
	"停滞或倒退(预测进度比 < 0.10)":        "Stalled or going backwards (projected progress ratio < 0.10)",
	"期限已过、未达到目标,或“保持”类目标某年未保持":   "The deadline has passed without the target met, or a level to hold was not held in some year",
	"没有可用于判断的数据":                 "No figure to judge by",
	"规划中的数字承诺,但没有统计指标可跟踪":        "A numeric commitment of the plan that no statistic can follow",
	"导出 CSV": "Export CSV", "导出 Excel": "Export Excel", "状态": "Status", "牵头单位": "Lead agency", "牵头或责任单位": "Lead or responsible agency", "全部": "All", "查找规划": "Find a plan", "查找": "Find", "规划名称、编号或发布机关": "name, key or issuer of a plan", " 个规划": " plans",
	"筛选": "Filter", "清除筛选": "Clear filters", "显示": "Showing", "项": "", "下级地区:": "Regions below: ", "项,达标率": "targets, achieved", "分页": "Pages", "地区代码或名称": "Region code or name", "目标(规划表述)": "Target (as the plan words it)",
	"实际值": "Actual", "目标": "Target", "差距": "Gap", "期限": "Deadline", "走势": "Trend", "依据": "Basis",
	"已定论": "settled", "没有符合筛选条件的目标。": "No target matches the filters.", "不可量化跟踪的承诺": "Commitments that cannot be tracked",
	"承诺": "Commitment", "条款": "Clause", "原因": "Reason", "规划期": "Plan period",
	"规划原文": "The plan's text", "责任单位": "Agencies", "逐年判断": "Year by year", "平均值覆盖情况": "Coverage of the average",
	"状态记录": "Status history", "逐年末回溯": "At each year's end", "报送数据与修订": "Figures and revisions",
	"考核排名": "ranking", "排名": "Rank", "数据排名": " figures ranked", "数据": " figures",
	"请求有误": "Bad request", "需要登录": "Sign-in required", "无权访问": "Forbidden", "未找到": "Not found",
	"不支持此请求方式": "Method not allowed", "内容过大": "Too large", "不支持的文件类型": "Unsupported type",
	"请求过于频繁": "Too many requests", "服务器内部错误": "Internal error", "服务暂时不可用": "Service unavailable", "请求未能完成": "Request failed",
	"参数无效": "Invalid parameter", "应为": "expected", "返回总览": "Back to the overview",
	// the indicator page (指标说明: issue 22 item 10)
	"指标说明": "About the indicator", "口径": "Definition", "计算方法": "Method", "单位": "Unit", "频率": "Frequency",
	"发布时滞": "Publication lag", "数据来源单位": "Source agency", "口径依据": "Reference", "无数据": "No figure",
	"(考核排名)": " (ranking)", "(平均)": " (mean)", " 各地区走势": ": trend by region", ":各地区实际值与各自目标": ": each region's latest figure and its own target",
	"条形为各地区最近实际值(累计新增类为规划期累计),竖线为该地区自己的目标。": "Bars: each region's latest figure (for cumulative targets, the sum over the plan period); ticks: that region's own target.",
	"各地区历年报送值。":     "Figures reported for each region, by year.",
	"没有规划以此指标设定目标。": "No plan sets a target on this indicator.",
	// charts
	"暂无数据": "No figures yet", "暂无报送数据": "No figures reported yet", "实际值(颜色为状态,括号内为数据年份)": "Latest figure (colour: status; in brackets: the year of the figure)",
	"该地区的目标": "The region's target", "预测": "Projected", "按趋势预测": "Projected on the trend for", "年度定额": "Yearly quota",
	"所需路径": "Path required", "报送数据(当前值)": "Reported (current)", "修订前数值": "Before revision", "趋势预测": "Trend projection", "报送数据": "Reported",
	// the plan and target pages
	" 年": "", " 项": "", "实际": "Actual", "(": " (", ")": ")", ",": ", ", ";": "; ", "判断依据:": "Basis: ", "地区:": "Region: ",
	"数据逾期(最近数据截至":                "figures overdue (latest figure up to",
	" 个地区的年度平均值(仅计全部地区均已报送的年份)。": " regions' yearly mean (only years every region has reported count). ",
	"自 ": "Cumulative additions since ", " 年起累计新增。": ". ",
	"实线与实心点为当前数值,空心点为被修订前的数值;虚线:目标、按期达标所需路径与趋势预测;竖线为期限。": "Solid line and dots: current figures; hollow dots: figures before revision; dashed: the target, the path required to meet it in time and the trend projection; vertical line: the deadline.",
	"下载数据 CSV": "Download figures (CSV)", "原文": "Text", "印刷原文作“": "The printed text reads “", "”,已按上下文更正。": "”, corrected from the context.",
	"判断方式": "Judged as", "说明": "Note", "规划未列明": "not named by the plan", "越高越好": "higher is better", "越低越好": "lower is better",
	"各地区比较": "compare regions", "年份": "Year", "结果": "Result", "已报地区": "Regions reported", "未报地区": "Regions missing",
	"来源": "Source", "平均值": "Mean", "计入": "Counted", "是": "yes", "否(不完整)": "no (incomplete)", "自": "Since",
	"尚无已保存的评估记录(系统每次评估后写入)。": "No evaluation saved yet (one is written after every evaluation).",
	"时点": "At", "按本页数据重新评估各年末的状态。": "The status at each year's end, judged again with this page's figures.",
	"规划期尚无已结束的年份。": "No year of the plan period has ended yet.", "时期": "Period", "数值": "Value", "修订": "Revision",
	"报送时间": "Reported at", "备注": "Note", "当前值": "current", "已被修订": "revised", "尚无报送数据。": "No figure reported yet.",
	"期限之后的数据(仅列示,不参与判断):": "Figures after the deadline (listed, not judged): ", "年末": " year-end", "(规划期末)": " (plan horizon)",
	"基线": "Baseline", "按期达标所需路径": "Path required to meet the target in time",
	// the changes page
	"至": "to", "最近一个季度": "Last quarter", " 之后至 ": " to ", ":目标状态变化 ": ": status changes ",
	" 项,新报送数据 ": ", new figures ", " 条,修订 ": ", revisions ", " 条": "", "(第 ": " (page ", " 页)": ")",
	"。同一数据用于多个规划时在每个规划下列出。": ". A figure used by several plans is listed under each.",
	"时间": "Time", "指标 / 目标": "Indicator / target", "原值": "Before", "新值": "After", "差额": "Difference", "报送方": "Reported by",
	"依据:": "Basis: ", "来源:": "Source: ", "原来源:": "Source before: ", "原备注:": "Note before: ",
	"这段时间内没有目标状态变化,也没有新报送或修订的数据。": "No status changed and no figure was reported or revised in this time.",
	"上一页": "Previous", "下一页": "Next", "第": "Page", " 页": "",
	"状态变化取自每次评估保存的记录(按小时);数据取自报送时间在这段时间内的报送与修订。报送方为上传单位(有上传回执时),来源为数据中的“来源”栏。": "Status changes come from the record saved at each evaluation (hourly); figures are those reported or revised within the time. Reported by: the uploading bureau (when the upload has a receipt); source: the figure's own source column.",
	// the report
	"打印 / 存为 PDF": "Print / save as PDF", "下载 Markdown 文本": "Download as Markdown", ",数据截至": ", figures reported by",
	" 报送": "", "生成于": "generated", "一、总体情况": "1. Overview", "二、滞后与未达标目标及原因": "2. Targets behind or not met, and why",
	"没有滞后或未达标的目标。": "No target is behind or unmet.", "三、主要滞后目标走势": "3. Trends of the main targets behind",
	"四、与其他规划的比较(共同指标)": "4. Compared with other plans (shared indicators)", "本规划的指标没有出现在其他规划中。": "No indicator of this plan appears in another plan.",
	"五、数据完整性": "5. Completeness of the figures", "应报年份": "Years due", "缺报年份": "Years missing", "最近数据截至": "Latest figure up to",
	"逾期": "overdue", "六、方法说明": "6. Method", ":": ": ",
	"本报告依照联合国可持续发展目标进展图(加拿大统计局等采用的方法)判断每项目标的状态。每项评估都附有判断依据。": "This report judges each target's status by the method of the UN SDG Progress Chart (as used by Statistics Canada and others). Every evaluation carries its basis.",
	"规划写明的年份,未写明的取规划期末年份。期限之后年份的数据只列示、不参与判断。":                "the year the plan states, else the last year of the plan period. Figures for years after the deadline are listed, not judged.",
	"定论": "Settled", "期限年份结束并经过宽限期(年度数据 180 天)后,目标定论为已达标、未达标或无数据,此后只随规划期内数据的补报或修订改变。": "once the deadline year has ended and its grace period (180 days for yearly figures) has passed, a target is settled as achieved, not achieved or no data, and changes after only with late or revised figures of the plan period.",
	"到期达到类": "Reach by the deadline", "期限年份的数据决定;此前已达标的为已达标;否则以基线年以来数据的最小二乘趋势预测至期限:预测达标或进度比 ≥ 0.95 为按进度,0.10–0.95 为滞后,< 0.10 为严重滞后。百分比类指标的预测不超过其上限。": "the deadline year's figure decides; a target met before is achieved; otherwise the least-squares trend of the figures since the baseline year is projected to the deadline: met or a progress ratio ≥ 0.95 is on track, 0.10–0.95 behind, < 0.10 far behind. Projections of percentages stop at their ceiling.",
	"每年保持类": "Hold every year", "(“稳定在……以上”)": " (“stay above …”)", "规划期内任一年低于目标即未达标。": "any plan year below the target means not achieved.",
	"年度定额类": "Yearly quota", "(“每年新增……”)": " (“… more each year”)", "逐年判断,已结束且过宽限期仍未报送的年份按未达标计。": "judged year by year; a year ended and past its grace period without a figure counts as not met.",
	"累计新增类": "Cumulative additions", "自规划首年起逐年新增量之和;期限前按年均新增量预测。": "the sum of the yearly additions since the plan's first year; before the deadline, projected at the mean yearly addition.",
	"地区平均": "Regional mean", "仅计全部地区均已报送的年份。": "only years every region has reported count.",
	"最近一期数据结束后超过报送周期加宽限期仍无新数据。": "no new figure once the reporting interval and grace period after the latest figure's period have passed.",
	"数据版本": "Vintages", "每次修订都保存报送时间,可按任一“数据截至”时点重现当时的评估。": "every revision keeps its report time, so the evaluation as of any “figures reported by” moment can be reproduced.",
	"没有这个规划": "No such plan", "没有这个指标": "No such indicator", "暂时无法读取数据,请稍后再试。": "The figures cannot be read just now; please try again later.",
}
