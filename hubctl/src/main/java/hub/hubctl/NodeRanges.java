package hub.hubctl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Node names folded into ranges as pdsh and dshbak write them: {@code web-1, web-2, web-3, web-5, db}
 * → {@code web-[1-3,5],db}. Names that end in a number are grouped by what comes before it (a
 * number with leading zeros keeps its width: {@code n01, n02} → {@code n[01-02]}); others are listed
 * as they are. Groups come in the order their first name came.
 */
final class NodeRanges {
    private static final Pattern NUMBERED = Pattern.compile("(.*?)([0-9]{1,9})");

    private NodeRanges() {
    }

    static String fold(List<String> names) {
        Map<String, TreeSet<Long>> groups = new LinkedHashMap<>();
        Map<String, Integer> widths = new LinkedHashMap<>();
        List<String> parts = new ArrayList<>();
        Map<String, Integer> slot = new LinkedHashMap<>();
        for (String name : names) {
            Matcher m = NUMBERED.matcher(name);
            if (!m.matches()) {
                parts.add(name);
                continue;
            }
            String digits = m.group(2);
            int width = digits.length() > 1 && digits.startsWith("0") ? digits.length() : 0;
            String key = m.group(1) + "\u0000" + width;
            if (!groups.containsKey(key)) {
                groups.put(key, new TreeSet<>());
                widths.put(key, width);
                slot.put(key, parts.size());
                parts.add(null); // filled below, where the group's first name was
            }
            groups.get(key).add(Long.parseLong(digits));
        }
        for (Map.Entry<String, TreeSet<Long>> g : groups.entrySet()) {
            String prefix = g.getKey().substring(0, g.getKey().indexOf('\u0000'));
            int width = widths.get(g.getKey());
            TreeSet<Long> nums = g.getValue();
            String text = nums.size() == 1 ? prefix + num(nums.first(), width)
                    : prefix + "[" + ranges(nums, width) + "]";
            parts.set(slot.get(g.getKey()), text);
        }
        return String.join(",", parts);
    }

    private static String ranges(TreeSet<Long> nums, int width) {
        StringBuilder sb = new StringBuilder();
        Long start = null;
        Long prev = null;
        for (long n : nums) {
            if (start == null) {
                start = n;
            } else if (n != prev + 1) {
                append(sb, start, prev, width);
                start = n;
            }
            prev = n;
        }
        append(sb, start, prev, width);
        return sb.toString();
    }

    private static void append(StringBuilder sb, long from, long to, int width) {
        if (sb.length() > 0) {
            sb.append(',');
        }
        sb.append(num(from, width));
        if (to != from) {
            sb.append('-').append(num(to, width));
        }
    }

    private static String num(long n, int width) {
        String s = Long.toString(n);
        return s.length() >= width ? s : "0".repeat(width - s.length()) + s;
    }
}
