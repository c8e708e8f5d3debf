//! How text becomes search terms, the same way for what is indexed and for what is asked:
//! words are runs of letters and digits (apostrophes inside a word are dropped, so "don't"
//! is "dont"); each Han, kana or Hangul character is a word of its own, since those scripts
//! do not separate words with spaces; everything is lower-cased and folded to ASCII where
//! a Latin letter carries a diacritic ("Björk" is "bjork", "Sigur Rós" is "sigur ros").

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Words longer than this are cut: nobody types more, and it bounds the index.
pub const MAX_WORD_CHARS: usize = 40;

/// Prefixes up to this many characters are indexed for matching as you type; a longer partial
/// word matches on its first this-many characters.
pub const MAX_PREFIX_CHARS: usize = 16;

fn is_ideographic(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // CJK Extensions B and later
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// Splits text into words (before folding); see the module's description.
#[derive(Clone, Default)]
pub struct WordSplitter;

pub struct Words {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Words {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for WordSplitter {
    type TokenStream<'a> = Words;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Words {
        let mut tokens = Vec::new();
        let mut current: Option<Token> = None;
        let finish = |token: Option<Token>, tokens: &mut Vec<Token>| {
            if let Some(mut token) = token {
                token.position = tokens.len();
                tokens.push(token);
            }
        };
        for (offset, c) in text.char_indices() {
            if is_ideographic(c) {
                finish(current.take(), &mut tokens);
                finish(
                    Some(Token {
                        offset_from: offset,
                        offset_to: offset + c.len_utf8(),
                        text: c.to_string(),
                        ..Token::default()
                    }),
                    &mut tokens,
                );
            } else if c.is_alphanumeric() {
                let token = current.get_or_insert_with(|| Token {
                    offset_from: offset,
                    ..Token::default()
                });
                if token.text.chars().count() < MAX_WORD_CHARS {
                    token.text.push(c);
                }
                token.offset_to = offset + c.len_utf8();
            } else if is_apostrophe(c) && current.is_some() {
                // Inside a word: "don't" is one word.
            } else {
                finish(current.take(), &mut tokens);
            }
        }
        finish(current.take(), &mut tokens);
        Words { tokens, next: 0 }
    }
}

/// The analyzer registered on the index's text fields.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordSplitter)
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The name under which [`analyzer`] is registered.
pub const ANALYZER: &str = "beatstream_words";

thread_local! {
    static ANALYZER_CACHE: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(analyzer());
}

/// The folded words of `text`, as the index sees them.
pub fn words(text: &str) -> Vec<String> {
    ANALYZER_CACHE.with(|analyzer| {
        let mut analyzer = analyzer.borrow_mut();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            if !token.text.is_empty() {
                out.push(token.text.clone());
            }
        }
        out
    })
}

/// Every prefix of every word (1 to [`MAX_PREFIX_CHARS`] characters), for matching as you type.
pub fn prefixes<'a>(words: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out = Vec::new();
    for word in words {
        let mut end = 0;
        for (count, c) in word.chars().enumerate() {
            if count == MAX_PREFIX_CHARS {
                break;
            }
            end += c.len_utf8();
            out.push(word[..end].to_string());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The indexed form of a partial word typed as the last one of a query.
pub fn prefix_key(word: &str) -> &str {
    match word.char_indices().nth(MAX_PREFIX_CHARS) {
        Some((end, _)) => &word[..end],
        None => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(words("Björk"), ["bjork"]);
        assert_eq!(words("Sigur Rós"), ["sigur", "ros"]);
        assert_eq!(words("MOTÖRHEAD"), ["motorhead"]);
        assert_eq!(words("Straße"), ["strasse"]);
    }

    #[test]
    fn splits_on_punctuation_and_keeps_apostrophes_inside_words() {
        assert_eq!(words("Don't Stop Me Now"), ["dont", "stop", "me", "now"]);
        assert_eq!(words("AC/DC"), ["ac", "dc"]);
        assert_eq!(words("\"(Hello):*"), ["hello"]);
        assert_eq!(words("'quoted'"), ["quoted"]);
        assert_eq!(words("  \u{0}\u{7}\t\n "), Vec::<String>::new());
    }

    #[test]
    fn cjk_characters_are_words_and_cyrillic_is_lowercased() {
        assert_eq!(words("東京事変"), ["東", "京", "事", "変"]);
        assert_eq!(words("Кино Звезда"), ["кино", "звезда"]);
        assert_eq!(words("BTS 방탄"), ["bts", "방", "탄"]);
    }

    #[test]
    fn long_words_are_cut() {
        let long = "a".repeat(500);
        assert_eq!(words(&long)[0].len(), MAX_WORD_CHARS);
    }

    #[test]
    fn prefixes_cover_every_start_of_every_word() {
        let w = words("Let It Be");
        assert_eq!(prefixes(&w), ["b", "be", "i", "it", "l", "le", "let"]);
        assert_eq!(prefix_key("abcdefghijklmnopqrstu"), "abcdefghijklmnop");
        assert_eq!(prefix_key("zvé"), "zvé");
    }
}
