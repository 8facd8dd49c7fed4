// HTML escaping, number formatting and script-safe JSON (report/html.h).
#include <gtest/gtest.h>

#include "report/html.h"

using grpo::report::escape_html;
using grpo::report::format_number;
using grpo::report::json_for_script;

TEST(EscapeHtml, EscapesMarkupAndQuotes) {
  EXPECT_EQ(escape_html("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(escape_html("plain text"), "plain text");
}

TEST(EscapeHtml, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(escape_html("a\xff<"), "a\xEF\xBF\xBD&lt;");
}

TEST(FormatNumber, FourSignificantDigits) {
  EXPECT_EQ(format_number(0.123456), "0.1235");
  EXPECT_EQ(format_number(12345.0), "1.234e+04");
  EXPECT_EQ(format_number(2.0), "2");
}

TEST(JsonForScript, NoStringCanCloseTheScriptElement) {
  const nlohmann::json value = {{"text", "</script><script>alert(1)</script><!--"}, {"n", 1.5}};
  const std::string text = json_for_script(value);
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  EXPECT_EQ(nlohmann::json::parse(text), value);
}
