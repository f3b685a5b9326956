package plan

// ComparatorZh prints each comparator (see Compare) in Chinese text
// ("≥96"), as the basis sentences and the reporting templates show it.
var ComparatorZh = map[string]string{">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}
