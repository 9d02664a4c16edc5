import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.type.TypeReference;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

// Reads one JSON body per line (UTF-8) and prints, per line, the form
// Huawei's V2 demo (IsvProduceAPI) signs: the body bound to Map<String,String>
// (basic interface) and to Map<String,Object> (kit), copied into a TreeMap,
// null values removed, written with a default ObjectMapper and encoded with
// getBytes("UTF-8"). Output: "basic\t<hex or ERROR>\tkit\t<hex or ERROR>".
public class JacksonForms {
    static final ObjectMapper M = new ObjectMapper();
    static String form(String body, boolean kit) {
        try {
            Map<String, Object> temp;
            if (kit) {
                temp = M.readValue(body.getBytes(StandardCharsets.UTF_8), new TypeReference<Map<String, Object>>() {});
            } else {
                Map<String, String> s = M.readValue(body.getBytes(StandardCharsets.UTF_8), new TypeReference<Map<String, String>>() {});
                temp = new LinkedHashMap<>(s);
            }
            Map<String, Object> sorted = new TreeMap<>(temp);
            sorted.entrySet().removeIf(e -> Objects.isNull(e.getValue()));
            byte[] b = M.writeValueAsString(sorted).getBytes("UTF-8");
            StringBuilder sb = new StringBuilder();
            for (byte x : b) sb.append(String.format("%02x", x));
            return sb.toString();
        } catch (Exception e) {
            return "ERROR";
        }
    }
    public static void main(String[] args) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args.length > 0 && args[0].equals("doubles")) {
            for (String line; (line = r.readLine()) != null; ) {
                System.out.println(Double.toString(Double.longBitsToDouble(Long.parseUnsignedLong(line, 16))));
            }
            return;
        }
        for (String line; (line = r.readLine()) != null; ) {
            System.out.println("basic\t" + form(line, false) + "\tkit\t" + form(line, true));
        }
    }
}
