// Package planextract drafts a quality plan's quantitative targets from its
// published text: it decodes the text (UTF-8 or GBK/GB18030), undoes what
// pasting from the web does to it (stray spaces, full-width punctuation,
// broken lines), follows the plan's clause numbering, the deadline in force
// ("到2025年") and the agencies' brackets (牵头单位/责任单位, "按职责分工负责"),
// and turns each stated commitment into a Draft: the indicator phrase as
// written, the catalogue indicator it resolves to, value, unit, comparator,
// deadline, modality, increment, clause, agencies and the exact quote.
//
// Results reported by the text ("2023年…合格率达到93.65%", "目前…稳定在93%以上")
// are not targets; a text that states no aim and reads as a report yields no
// draft and a warning naming its result sentences. A goal whose clause names
// no agencies takes those of the task clause naming its measure.
// Suspicious numbers (a percentage over 100, a private-use character inside
// a number, an increment out of proportion to the target) are flagged with a
// reason and a suggested correction; nothing is corrected silently.
//
// The extractor is rule-based: no segmentation dictionary is needed because
// plan sentences are built from a small set of verbs (达到, 稳定在, 培育, 新增 …)
// and indicator phrases are matched against the catalogue by character
// bigrams. Render turns drafts into a plan file for targets/ in which every
// unresolved field reads TODO, which `qualitymon check targets` refuses until
// a person has reviewed it; Diff compares a text with an existing plan file.
package planextract
