Console.WriteLine("runway");
public partial class Program;
