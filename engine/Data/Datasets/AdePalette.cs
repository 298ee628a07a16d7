namespace Engine.Data.Datasets;

/// <summary>
/// ADE20K's colour table for the 150 scene-parsing classes (SceneParsing's color150, as
/// mmsegmentation's ADE20KDataset lists it: wall grey, building, sky cyan, ...), so masks read like
/// every other ADE20K tool's. Label 0, "other", is black.
/// </summary>
public static class AdePalette
{
    // RRGGBB of labels 1..150, ten a line.
    private const string Table =
        "787878 b47878 06e6e6 503232 04c803 787850 8c8c8c cc05ff e6e6e6 04fa07 " +  // 1..10
        "e005ff ebff07 96053d 787846 08ff33 ff0652 8fff8c ccff04 ff3307 cc4603 " +  // 11..20
        "0066c8 3de6fa ff0633 0b66ff ff0747 ff09e0 0907e6 dcdcdc ff095c 7009ff " +  // 21..30
        "08ffd6 07ffe0 ffb806 0aff47 ff290a 07ffff e0ff08 6608ff ff3d06 ffc207 " +  // 31..40
        "ff7a08 00ff14 ff0829 ff0599 0633ff eb0cff a09614 00a3ff 8c8c8c fa0a0f " +  // 41..50
        "14ff00 1fff00 ff1f00 ffe000 99ff00 0000ff ff4700 00ebff 00adff 1f00ff " +  // 51..60
        "0bc8c8 ff5200 00fff5 003dff 00ff70 00ff85 ff0000 ffa300 ff6600 c2ff00 " +  // 61..70
        "008fff 33ff00 0052ff 00ff29 00ffad 0a00ff adff00 00ff99 ff5c00 ff00ff " +  // 71..80
        "ff00f5 ff0066 ffad00 ff0014 ffb8b8 001fff 00ff3d 0047ff ff00cc 00ffc2 " +  // 81..90
        "00ff52 000aff 0070ff 3300ff 00c2ff 007aff 00ffa3 ff9900 00ff0a ff7000 " +  // 91..100
        "8fff00 5200ff a3ff00 ffeb00 08b8aa 8500ff 00ff5c b800ff ff001f 00b8ff " +  // 101..110
        "00d6ff ff0070 5cff00 00e0ff 70e0ff 46b8a0 a300ff 9900ff 47ff00 ff00a3 " +  // 111..120
        "ffcc00 ff008f 00ffeb 85ff00 ff00eb f500ff ff007a fff500 0abed4 d6ff00 " +  // 121..130
        "00ccff 1400ff ffff00 0099ff 0029ff 00ffcc 2900ff 29ff00 ad00ff 00f5ff " +  // 131..140
        "4700ff 7a00ff 00ffb8 005cff b8ff00 0085ff ffd600 19c2c2 66ff00 5c00ff"; // 141..150

    /// <summary>The colour of ADE20K label <paramref name="label"/> (0..150; 0 and anything outside: black).</summary>
    public static (byte R, byte G, byte B) Colour(int label)
    {
        if (label < 1 || label > AdeSegmentationDataset.ClassCount) return (0, 0, 0);
        var hex = Table.AsSpan(7 * (label - 1), 6);
        return (Convert.ToByte(hex[..2].ToString(), 16), Convert.ToByte(hex[2..4].ToString(), 16), Convert.ToByte(hex[4..].ToString(), 16));
    }

    /// <summary>
    /// The colour of a net's class: its class c is ADE label c when "other" was a class of its own
    /// (<see cref="AdeOther.AsClass"/>, 151 classes), label c + 1 when it was ignored (150 classes).
    /// </summary>
    public static (byte R, byte G, byte B) ClassColour(int cls, bool otherAsClass) => cls < 0 ? ((byte)0, (byte)0, (byte)0) : Colour(otherAsClass ? cls : cls + 1);
}
