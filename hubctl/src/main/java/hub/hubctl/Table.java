package hub.hubctl;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * An aligned text table: columns separated by three spaces, headers in capitals. With colors on,
 * headers are bold and a STATUS or STATE column is colored by meaning; widths count the plain text.
 */
public final class Table {
    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();
    private Colors colors = Colors.OFF;

    private boolean withHeaders = true;

    /** Colors and {@code --no-headers} as the command line asks. */
    public Table styled(HubctlCommand root) {
        this.withHeaders = root.headers();
        return colors(root.colors());
    }

    public Table(List<String> headers) {
        this.headers = List.copyOf(headers);
    }

    /** Colors this table's output. */
    Table colors(Colors c) {
        this.colors = c;
        return this;
    }

    /** Adds a row; {@code null} cells print as {@code -}. */
    public Table row(List<String> cells) {
        if (cells.size() != headers.size()) {
            throw new IllegalArgumentException("row has " + cells.size() + " cells, table has "
                    + headers.size() + " columns");
        }
        List<String> r = new ArrayList<>(cells.size());
        for (String c : cells) {
            r.add(c == null || c.isEmpty() ? "-" : c);
        }
        rows.add(r);
        return this;
    }

    /** Prints the table. */
    public void print(PrintWriter out) {
        int[] width = new int[headers.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = headers.get(i).length();
            for (List<String> r : rows) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        if (withHeaders) {
            line(out, headers, null, width, colors);
        }
        for (List<String> r : rows) {
            line(out, r, headers, width, colors);
        }
        out.flush();
    }

    /** One line; {@code headers} is null for the header line itself. */
    private static void line(PrintWriter out, List<String> cells, List<String> headers, int[] width,
            Colors colors) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            if (headers == null) {
                sb.append(colors.header(c));
            } else if (headers.get(i).equals("STATUS") || headers.get(i).equals("STATE")) {
                sb.append(colors.status(c));
            } else {
                sb.append(c);
            }
            if (i < cells.size() - 1) {
                sb.append(" ".repeat(width[i] - c.length() + 3));
            }
        }
        out.println(sb.toString().stripTrailing());
    }

    /**
     * Rows printed one at a time as they come (watch modes): the header first, columns as wide as
     * the widest cell seen so far, so later rows line up with earlier ones as well as they can.
     */
    public static final class Aligned {
        private final List<String> headers;
        private final PrintWriter out;
        private final int[] width;
        private final Colors colors;
        private boolean headerPrinted;

        Aligned(List<String> headers, PrintWriter out, Colors colors) {
            this.headers = List.copyOf(headers);
            this.out = out;
            this.colors = colors;
            this.width = new int[headers.size()];
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(headers.get(i).length(), 8);
            }
        }

        /** Prints one row (and the header before the first). */
        public synchronized void print(List<String> cells) {
            List<String> r = new ArrayList<>(cells.size());
            for (int i = 0; i < cells.size(); i++) {
                String c = cells.get(i) == null || cells.get(i).isEmpty() ? "-" : cells.get(i);
                r.add(c);
                width[i] = Math.max(width[i], c.length());
            }
            if (!headerPrinted) {
                line(out, headers, null, width, colors);
                headerPrinted = true;
            }
            line(out, r, headers, width, colors);
            out.flush();
        }
    }
}
