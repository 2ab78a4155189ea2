package hub.hubctl;

/**
 * Questions asked of the person at the terminal (a token to type, whether to trust a hub's CA):
 * the process's console, or the shell's line reader inside {@code hubctl shell}. Absent when
 * nobody is there to answer (stdin not a terminal): commands then need flags instead.
 */
interface Prompter {
    /** A line typed in answer to {@code prompt}, or null at end of input. */
    String readLine(String prompt);

    /** A secret typed without echo, or null at end of input. */
    char[] readPassword(String prompt);

    /** The process's console, or null when stdin or stdout is not a terminal. */
    static Prompter console() {
        java.io.Console c = System.console();
        if (c == null) {
            return null;
        }
        return new Prompter() {
            @Override
            public String readLine(String prompt) {
                return c.readLine("%s", prompt);
            }

            @Override
            public char[] readPassword(String prompt) {
                return c.readPassword("%s", prompt);
            }
        };
    }

    /** The shell's line reader; answers are kept out of the shell's history. */
    static Prompter of(org.jline.reader.LineReader reader) {
        return new Prompter() {
            @Override
            public String readLine(String prompt) {
                return ask(prompt, null);
            }

            @Override
            public char[] readPassword(String prompt) {
                String s = ask(prompt, '*');
                return s == null ? null : s.toCharArray();
            }

            private String ask(String prompt, Character mask) {
                Object before = reader.getVariable(org.jline.reader.LineReader.DISABLE_HISTORY);
                reader.setVariable(org.jline.reader.LineReader.DISABLE_HISTORY, true);
                try {
                    return reader.readLine(prompt, mask);
                } catch (org.jline.reader.EndOfFileException | org.jline.reader.UserInterruptException e) {
                    return null;
                } finally {
                    reader.setVariable(org.jline.reader.LineReader.DISABLE_HISTORY, before == null ? false : before);
                }
            }
        };
    }
}
